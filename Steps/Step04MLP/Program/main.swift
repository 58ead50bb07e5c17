import Foundation
import MLPStep
import StepKit
import Tensor

// Step 04: an MLP on top of the embeddings, trained on batches. No layer reads across positions.

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
        help: "train one model per depth in the list, each from the same seed, and compare them")
    let probeContext = flags.bool(
        "probe-context", help: "after training, replace the first token of a context and compare the prediction at its end")
    let context = flags.optionalString(
        "context", help: "the context of --probe-context, which this flag turns on (default: the first --block-size validation tokens)")
    try flags.parse(CommandLine.arguments.dropFirst())

    // The data, and the context of the probe, are checked before any training starts.
    let corpus = try standard.loadCorpus()
    let data = try training.prepareData(corpus)
    let probeIDs = probeContext.value || context.value != nil
        ? try data.contextIDs(context.value, blockSize: training.blockSize.value, minimumCount: 2)
        : nil
    let settings = training.settings
    let blockSize = training.blockSize.value

    print(trainingOverview(textName: corpus.summary, data: data, settings: settings, blockSize: blockSize, seed: standard.seed.value))

    /// Builds a model of `depth` hidden layers from the seed and trains it, with a progress bar on standard error.
    func trainModel(depth: Int) throws -> (model: MLPLanguageModel, curve: LossCurve) {
        var generator = SeededGenerator(seed: standard.seed.value)
        let model = MLPLanguageModel(
            vocabSize: data.vocabSize, blockSize: blockSize, embedDim: training.embedDim.value,
            hiddenSize: hiddenSize.value, depth: depth, generator: &generator)
        let progress = ProgressBar(
            total: settings.steps, label: "depth \(depth)", rateUnit: "tokens",
            rateUnitsPerCount: Double(settings.batchSize * blockSize))
        // Finishing also on an error ends the bar's line before the error is printed.
        defer { progress.finish() }
        let curve = try train(model, on: data.dataset, settings: settings, generator: &generator) { step, loss in
            progress.update(step, status: "loss " + Format.fixed(loss, digits: 3))
        }
        return (model, curve)
    }

    // Task: train at one depth, or at each depth of --compare-depths from the same seed.
    let depths = compareDepths.value.isEmpty ? [depth.value] : compareDepths.value
    var runs: [(label: String, parameterCount: Int, curve: LossCurve)] = []
    var lastModel: MLPLanguageModel?
    for depth in depths {
        let (model, curve) = try trainModel(depth: depth)
        print()
        print("depth \(depth): embed dim \(training.embedDim.value), hidden size \(hiddenSize.value), "
            + Format.grouped(model.parameterCount) + " parameters")
        print(curve.report())
        if training.timing.value {
            print(curve.timingSummary(tokensPerStep: settings.batchSize * blockSize))
        }
        runs.append(("depth \(depth)", model.parameterCount, curve))
        lastModel = model
    }

    // Question: does deeper always help?
    if runs.count > 1 {
        let hidden = hiddenSize.value
        print()
        print(comparisonTable(runs, labelHeader: "model").render())
        print("Each hidden layer after the first adds \(hidden)·\(hidden) weights + \(hidden) biases = "
            + Format.grouped(hidden * hidden + hidden) + " parameters.")
    }

    if let path = training.plot.value {
        let title = runs.count > 1 ? "Step 04: MLP depths compared" : "Step 04: MLP of depth \(depths[0])"
        try lossPlot(runs.map { (runs.count > 1 ? $0.label : "", $0.curve) }, title: title).write(toPath: path)
        print()
        print("wrote the loss curves to \(path)")
    }

    // Question: why can this model not copy from earlier positions?
    if let probeIDs, let model = lastModel {
        print()
        print(contextProbeReport(model: model, tokenizer: data.tokenizer, context: probeIDs))
    }
}
