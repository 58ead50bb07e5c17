import DatasetStep
import Foundation
import MLPStep
import MultiHeadAttentionStep
import SelfAttentionStep
import StepKit
import Tensor

runStepProgram {
    var flags = FlagParser(
        program: "Step06MultiHeadAttention",
        summary: "Splits step 05's attention into several heads that attend side by side, trains the model, and"
            + " prints the shape of every stage and each head's attention matrix att[0, h] of a validation sequence."
            + " --heads 1 gives one head of full width, --compare-heads 1,4 trains one model per head count, and"
            + " --repeated-pairs switches to a text that only a model that looks back can predict.")
    let standard = flags.standardFlags()
    let training = flags.trainingFlags()
    let heads = flags.int("heads", default: 4, help: "attention heads; each gets --embed-dim / --heads channels, so it must divide --embed-dim")
    let depth = flags.int("depth", default: 2, range: .atLeast(1), help: "hidden layers in the MLP after the attention heads")
    let hiddenSize = flags.int("hidden-size", default: 64, range: .atLeast(1), help: "width of each hidden layer")
    let context = flags.optionalString(
        "context", help: "the sequence whose attention matrices are printed (default: the first --block-size validation tokens)")
    let showValues = flags.bool("show-values", help: "print the attention weights as numbers instead of shades")
    let compareHeads = flags.intList(
        "compare-heads", default: [],
        help: "train one model per head count in the list, each from the same seed, and compare them")
    let repeatedPairs = flags.bool(
        "repeated-pairs", help: "train on a made-up text of letter pairs repeated in runs of 8, such as fhfhfhfheheheheh")
    try flags.parse(CommandLine.arguments.dropFirst())

    // Every head count is checked against --embed-dim before anything is loaded or trained.
    let headCounts = compareHeads.value.isEmpty ? [heads.value] : compareHeads.value
    let headsFlag = compareHeads.value.isEmpty ? "--heads" : "--compare-heads"
    for count in headCounts {
        try AttentionConfigurationError.check(embedDim: training.embedDim.value, numHeads: count, flag: headsFlag)
    }

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
    let contextIDs = try data.contextIDs(context.value, blockSize: blockSize)
    let settings = training.settings

    let corpusName = repeatedPairs.value
        ? "repeated pairs (2,400 characters: " + String(corpus.text.prefix(24)) + "…)"
        : corpus.summary
    print(trainingOverview(textName: corpusName, data: data, settings: settings, blockSize: blockSize, seed: standard.seed.value))

    func headsLabel(_ count: Int) -> String { count == 1 ? "1 head" : "\(count) heads" }

    /// Builds a model with `numHeads` heads from the seed and trains it, with a progress bar on standard error.
    func trainModel(numHeads: Int) throws -> (model: MultiHeadLanguageModel, curve: LossCurve) {
        var generator = SeededGenerator(seed: standard.seed.value)
        let model = try MultiHeadLanguageModel(
            vocabSize: data.vocabSize, blockSize: blockSize, embedDim: training.embedDim.value, numHeads: numHeads,
            hiddenSize: hiddenSize.value, depth: depth.value, generator: &generator)
        let progress = ProgressBar(
            total: settings.steps, label: headsLabel(numHeads), rateUnit: "tokens",
            rateUnitsPerCount: Double(settings.batchSize * blockSize))
        let curve = try train(model, on: data.dataset, settings: settings, generator: &generator) { step, loss in
            progress.update(step, status: "loss " + Format.fixed(loss, digits: 3))
        }
        progress.finish()
        if training.timing.value {
            print(curve.timingSummary(tokensPerStep: settings.batchSize * blockSize))
        }
        return (model, curve)
    }

    // Task: train with --heads heads (4 by default, 1 to compare), or with each count of --compare-heads.
    var runs: [(label: String, parameterCount: Int, curve: LossCurve)] = []
    var models: [(label: String, model: MultiHeadLanguageModel)] = []
    for numHeads in headCounts {
        let (model, curve) = try trainModel(numHeads: numHeads)
        print()
        print(headsLabel(numHeads) + " of head size \(model.attention.headSize) (embed dim \(training.embedDim.value)),"
            + " depth \(depth.value), hidden size \(hiddenSize.value), " + Format.grouped(model.parameterCount) + " parameters")
        print(headCounts.count > 1 ? curve.sparklines() : curve.report())
        runs.append((headsLabel(numHeads), model.parameterCount, curve))
        models.append((headsLabel(numHeads), model))
    }

    // Question: what does a head buy? The same weights, cut into independent attention patterns.
    if runs.count > 1 {
        let c = training.embedDim.value
        print()
        print(comparisonTable(runs, labelHeader: "model").render())
        print("Query, key, value and projection are \(c)×\(c) each for every head count: 4·\(c)·\(c) = "
            + Format.grouped(4 * c * c) + " attention weights.")
    }

    // Task: observe the output shape. Every stage of the attention layer on one batch of training sequences.
    var batchGenerator = SeededGenerator(seed: standard.seed.value)
    let batch = try TokenDataset.randomBatch(
        from: data.dataset.train, batchSize: settings.batchSize, blockSize: blockSize, generator: &batchGenerator)
    let headSizeNote = models.count == 1 ? " = \(models[0].model.attention.headSize)" : ""
    print()
    print("The attention layer on one batch: B = \(settings.batchSize) sequences, T = \(blockSize) tokens,"
        + " C = \(training.embedDim.value), headSize = C / numHeads" + headSizeNote)
    print(shapeTable(models.map { ($0.label, $0.model.attentionStages(batch.inputs, shape: batch.shape)) }).render())

    // Question: what does a head buy? Each head's att[0, h], side by side, and where each head looks.
    let tokens = contextIDs.map { data.tokenizer.label(for: $0) }
    let matrices = models.map { ($0.label, $0.model.attentionMatrices(for: contextIDs)) }
    let source = context.value.map { "\"\($0)\"" } ?? "the first \(contextIDs.count) validation tokens"
    if models.count == 1 {
        print()
        print("att[0, h] of \(source) for each head h; row t: the weights position t gives to positions 0…t")
        print(sideBySideHeatmaps(
            matrices[0].1, tokens: tokens, width: max(80, Terminal.standardErrorColumns), showsValues: showValues.value))
    }
    if contextIDs.count >= 2 {
        print()
        print("Where each head looks in att[0] of \(source), averaged over rows 1…\(contextIDs.count - 1):")
        print(headPatternTable(matrices).render())
    }
    let allMatrices = matrices.flatMap(\.1)
    let worstRowSum = allMatrices.map(\.maxRowSumDeviation).max() ?? 0
    print("every row of every head sums to 1 within " + Format.significant(worstRowSum, digits: 2)
        + (allMatrices.allSatisfy(\.isCausal) ? "; every entry above the diagonal is exactly 0" : "; NOT causal"))

    if let path = training.plot.value {
        let title = "Step 06: " + runs.map(\.label).joined(separator: " and ")
        try lossPlot(runs.map { (runs.count > 1 ? $0.label : "", $0.curve) }, title: title).write(toPath: path)
        print()
        print("wrote the loss curves to \(path)")
    }
}
