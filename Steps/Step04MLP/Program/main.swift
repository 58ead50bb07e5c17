import Foundation
import MLPStep
import StepKit
import Tensor
import TokenizerStep

runStepProgram {
    var flags = FlagParser(
        program: "Step04MLP",
        summary: "Trains a language model that reads each position on its own: token and position embeddings,"
            + " a stack of hidden layers (an MLP) and a linear head. Compare depths with --compare-depths 2,4,"
            + " and check with --probe-context that earlier tokens cannot change a later prediction.")
    let standard = flags.standardFlags()
    let training = flags.trainingFlags()
    let depth = flags.int("depth", default: 2, range: .atLeast(1), help: "hidden layers in the MLP")
    let hiddenSize = flags.int("hidden-size", default: 64, range: .atLeast(1), help: "width of each hidden layer")
    let compareDepths = flags.intList(
        "compare-depths", default: [], range: .atLeast(1),
        help: "train one model per depth in the list, from the same seed, and compare them")
    let probeContext = flags.bool(
        "probe-context", help: "after training, replace an earlier token of a context and compare the last prediction")
    let context = flags.optionalString(
        "context", help: "the context --probe-context uses (default: the first --block-size tokens of the validation text)")
    try flags.parse(CommandLine.arguments.dropFirst())

    let corpus = try standard.loadCorpus()
    let data = try training.prepareData(corpus)
    let settings = training.settings
    print("corpus: " + corpus.summary)
    print(data.summary)
    print("training: \(settings.steps) steps, batch size \(settings.batchSize), block size \(training.blockSize.value),"
        + " lr \(Format.significant(settings.learningRate)), seed \(standard.seed.value)")
    print("An untrained model gives every token the same probability: loss " + uniformLossNote(vocabSize: data.vocabSize) + ".")

    /// Builds and trains a model of the given depth from the seed, showing progress on standard error.
    func trainModel(depth: Int) throws -> (model: MLPLanguageModel, curve: LossCurve) {
        var generator = SeededGenerator(seed: standard.seed.value)
        let model = MLPLanguageModel(
            vocabSize: data.vocabSize, blockSize: training.blockSize.value, embedDim: training.embedDim.value,
            hiddenSize: hiddenSize.value, depth: depth, generator: &generator)
        let progress = ProgressBar(
            total: settings.steps, label: "depth \(depth)", rateUnit: "tokens",
            rateUnitsPerCount: Double(settings.batchSize * training.blockSize.value))
        let curve = try train(model, on: data.dataset, settings: settings, generator: &generator) { step, loss in
            progress.update(step, status: "loss " + Format.fixed(loss, digits: 3))
        }
        progress.finish()
        if training.timing.value {
            print(curve.timingSummary(tokensPerStep: settings.batchSize * training.blockSize.value))
        }
        return (model, curve)
    }

    let depths = compareDepths.value.isEmpty ? [depth.value] : compareDepths.value
    var runs: [(label: String, parameterCount: Int, curve: LossCurve)] = []
    var lastModel: MLPLanguageModel?
    for depth in depths {
        let (model, curve) = try trainModel(depth: depth)
        print()
        print("depth \(depth): embed dim \(training.embedDim.value), hidden size \(hiddenSize.value), "
            + Format.grouped(model.parameterCount) + " parameters")
        print(curve.report())
        runs.append(("depth \(depth)", model.parameterCount, curve))
        lastModel = model
    }

    if runs.count > 1 {
        print()
        print(comparisonTable(runs, labelHeader: "model").render())
        let hidden = hiddenSize.value
        print("Each extra hidden layer adds \(hidden)·\(hidden) weights + \(hidden) biases = "
            + Format.grouped(hidden * hidden + hidden) + " parameters.")
    }

    if let path = training.plot.value {
        let title = runs.count > 1 ? "Step 04: MLP depths compared" : "Step 04: MLP, depth \(depths[0])"
        try lossPlot(runs.map { (runs.count > 1 ? $0.label : "", $0.curve) }, title: title).write(toPath: path)
        print()
        print("wrote the loss curves to \(path)")
    }

    if probeContext.value, let model = lastModel {
        print()
        print(try probeReport(model: model, data: data, contextText: context.value, blockSize: training.blockSize.value))
    }
}

/// Returns the probe experiment as text: the top predictions at the last position of a context,
/// before and after its first token is replaced, and after its last token is replaced.
func probeReport(model: MLPLanguageModel, data: TokenizedCorpus, contextText: String?, blockSize: Int) throws -> String {
    let tokenizer = data.tokenizer
    let ids = try contextIDs(contextText, tokenizer: tokenizer, validation: data.dataset.validation, blockSize: blockSize)
    let last = ids.count - 1
    // A replacement that differs from the original token and is never [UNK] (id 0).
    func replacement(for id: Int) -> Int { id % (data.vocabSize - 1) + 1 }
    func text(_ ids: [Int]) -> String { ids.map { tokenizer.label(for: $0) }.joined() }

    let first = ContextProbe(model: model, context: ids, position: 0, replacement: replacement(for: ids[0]))
    let lastChanged = ContextProbe(model: model, context: ids, position: last, replacement: replacement(for: ids[last]))

    var lines = ["Probe: which tokens does the prediction at the last position (\(last)) depend on?"]
    lines.append("context          \(text(first.original))")
    lines.append("token 0 changed  \(text(first.changed))   (\(tokenizer.label(for: ids[0])) → \(tokenizer.label(for: first.changed[0])))")
    lines.append("last changed     \(text(lastChanged.changed))   (\(tokenizer.label(for: ids[last])) → \(tokenizer.label(for: lastChanged.changed[last])))")
    lines.append("")

    let columns: [[TokenPrediction]] = [first.originalLogits, first.changedLogits, lastChanged.changedLogits].map {
        topPredictions(logits: $0, count: 5)
    }
    var table = Table(columns: [
        "rank", Table.Column("context", alignment: .left), "p",
        Table.Column("token 0 changed", alignment: .left), "p ",
        Table.Column("last changed", alignment: .left), "p  ",
    ])
    for rank in 0..<5 {
        var row = ["\(rank + 1)"]
        for predictions in columns {
            row.append(tokenizer.label(for: predictions[rank].id))
            row.append(Format.fixed(predictions[rank].probability, digits: 3))
        }
        table.addRow(row)
    }
    lines.append(table.render())
    lines.append("")

    func verdict(_ probe: ContextProbe) -> String {
        probe.isUnchanged
            ? "bit-identical to the original (largest difference 0)"
            : "different (largest difference " + Format.significant(probe.maxAbsoluteDifference) + ")"
    }
    lines.append("logits at position \(last) with token 0 changed: " + verdict(first))
    lines.append("logits at position \(last) with the last token changed: " + verdict(lastChanged))
    return lines.joined(separator: "\n")
}

/// Returns the ids of `--context`, or the first `blockSize` validation tokens when it is not given.
/// - Throws: `StepError` when the context is too short or too long, or has characters the training text lacks.
func contextIDs(_ text: String?, tokenizer: CharTokenizer, validation: [Int], blockSize: Int) throws -> [Int] {
    guard let text else {
        return Array(validation.prefix(blockSize))
    }
    let unknown = tokenizer.unknownScalars(in: text)
    guard unknown.isEmpty else {
        let shown = unknown.map { printableLabel($0) }.joined(separator: " ")
        throw StepError(
            "--context \"\(text)\" contains characters the training text does not have: \(shown)."
                + " Use only characters of the corpus.")
    }
    let ids = tokenizer.encode(text)
    guard ids.count >= 2 && ids.count <= blockSize else {
        throw StepError(invalid: "--context", value: "\"\(text)\"",
            rule: "it has \(ids.count) tokens, but the probe needs 2 to --block-size \(blockSize)",
            fix: "Pass a shorter or longer context, or change --block-size.")
    }
    return ids
}
