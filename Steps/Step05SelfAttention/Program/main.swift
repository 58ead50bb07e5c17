import Foundation
import MLPStep
import SelfAttentionStep
import StepKit
import Tensor

// Step 05: one causal self-attention head lets each position read the positions before it.

runStepProgram {
    var flags = FlagParser(
        program: "Step05SelfAttention",
        summary: "Adds one causal self-attention head to step 04's model, trains it, and prints the attention"
            + " matrix att[0] of a validation sequence with each row's sum. --no-softmax shows what the softmax"
            + " is for, --compare-mlp trains step 04's model beside it, and --repeated-pairs switches to a text"
            + " that only a model that looks back can predict.")
    let standard = flags.standardFlags()
    let training = flags.trainingFlags()
    let depth = flags.int("depth", default: 2, range: .atLeast(1), help: "hidden layers in the MLP after the attention head")
    let hiddenSize = flags.int("hidden-size", default: 64, range: .atLeast(1), help: "width of each hidden layer")
    let softmax = flags.bool(
        "softmax", default: true,
        help: "turn each row of attention scores into weights with softmax; --no-softmax uses the masked, scaled scores as they are")
    let context = flags.optionalString(
        "context", help: "the sequence whose attention matrix is printed (default: the first --block-size validation tokens)")
    let showValues = flags.bool("show-values", help: "print the attention weights as numbers instead of shades")
    let compareMLP = flags.bool("compare-mlp", help: "also train step 04's MLP model with the same sizes and seed")
    let repeatedPairs = flags.bool(
        "repeated-pairs", help: "train on a made-up text of letter pairs repeated in runs of 8, such as fhfhfhfheheheheh")
    let probeContext = flags.bool(
        "probe-context", help: "replace the first token of the context and compare the prediction at its end, as in step 04")
    try flags.parse(CommandLine.arguments.dropFirst())

    // The data and the context are checked before any training starts.
    let corpus: Corpus
    if repeatedPairs.value {
        guard standard.text.value == nil && standard.textFile.value == nil else {
            throw StepError("--repeated-pairs makes its own text, so it cannot be combined with --text or --text-file. Leave one of them out.")
        }
        corpus = Corpus(text: RepeatedPairsText.make(length: 2400), source: .literal)
    } else {
        corpus = try standard.loadCorpus()
    }
    let data = try training.prepareData(corpus)
    let blockSize = training.blockSize.value
    let contextIDs = try data.contextIDs(context.value, blockSize: blockSize, minimumCount: probeContext.value ? 2 : 1)
    let settings = training.settings

    let corpusName = repeatedPairs.value
        ? "repeated pairs (2,400 characters: " + String(corpus.text.prefix(24)) + "…)"
        : corpus.summary
    print(trainingOverview(textName: corpusName, data: data, settings: settings, blockSize: blockSize, seed: standard.seed.value))

    /// Trains `model` from a generator in the state right after the model was built, with a progress bar.
    func run(_ model: some LanguageModel, label: String, generator: inout SeededGenerator) throws -> LossCurve {
        let progress = ProgressBar(
            total: settings.steps, label: label, rateUnit: "tokens", rateUnitsPerCount: Double(settings.batchSize * blockSize))
        // Finishing also on an error ends the bar's line before the error is printed.
        defer { progress.finish() }
        let curve = try train(model, on: data.dataset, settings: settings, generator: &generator) { step, loss in
            progress.update(step, status: "loss " + Format.fixed(loss, digits: 3))
        }
        if training.timing.value {
            print(curve.timingSummary(tokensPerStep: settings.batchSize * blockSize))
        }
        return curve
    }

    // Task: train the model with one attention head.
    var generator = SeededGenerator(seed: standard.seed.value)
    let model = AttentionLanguageModel(
        vocabSize: data.vocabSize, blockSize: blockSize, embedDim: training.embedDim.value,
        hiddenSize: hiddenSize.value, depth: depth.value, generator: &generator)
    model.attention.appliesSoftmax = softmax.value
    let label = softmax.value ? "attention" : "attention without softmax"
    let curve = try run(model, label: label, generator: &generator)
    print()
    print("\(label): head size \(model.attention.headSize), depth \(depth.value), hidden size \(hiddenSize.value), "
        + Format.grouped(model.parameterCount) + " parameters")
    print(curve.report())
    var runs: [(label: String, parameterCount: Int, curve: LossCurve)] = [(label, model.parameterCount, curve)]

    if compareMLP.value {
        var mlpGenerator = SeededGenerator(seed: standard.seed.value)
        let mlp = MLPLanguageModel(
            vocabSize: data.vocabSize, blockSize: blockSize, embedDim: training.embedDim.value,
            hiddenSize: hiddenSize.value, depth: depth.value, generator: &mlpGenerator)
        let mlpCurve = try run(mlp, label: "step 04 MLP", generator: &mlpGenerator)
        runs.append(("step 04 MLP", mlp.parameterCount, mlpCurve))
        print()
        print(comparisonTable(runs).render())
    }

    // Task: print att[0] and check that its rows sum to 1.
    let tokens = contextIDs.map { data.tokenizer.label(for: $0) }
    let matrix = model.attentionMatrix(for: contextIDs)
    let firstTokens = contextIDs.count == 1 ? "the first validation token" : "the first \(contextIDs.count) validation tokens"
    let source = context.value.map { "\"\($0)\"" } ?? firstTokens
    let title = "att[0] of \(source); row t: the weights position t gives to positions 0…t"
    print()
    print(matrix.heatmapText(tokens: tokens, title: title, showsValues: showValues.value))
    print(matrix.summary())

    if probeContext.value {
        print()
        print(contextProbeReport(model: model, tokenizer: data.tokenizer, context: contextIDs))
    }

    if let path = training.plot.value {
        let title = "Step 05: " + runs.map(\.label).joined(separator: " and ")
        try lossPlot(runs.map { (runs.count > 1 ? $0.label : "", $0.curve) }, title: title).write(toPath: path)
        print()
        print("wrote the loss curves to \(path)")
    }
}
