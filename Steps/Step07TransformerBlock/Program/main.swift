import DatasetStep
import Foundation
import MLPStep
import MultiHeadAttentionStep
import StepKit
import Tensor
import TransformerBlockStep

runStepProgram {
    var flags = FlagParser(
        program: "Step07TransformerBlock",
        summary: "Wraps step 06's attention and an MLP in a transformer block: x + attention(LayerNorm(x)), then"
            + " x + MLP(LayerNorm(x)). Trains it and prints, layer by layer, the gradient norm and the size of the"
            + " residual stream before and after training. --no-residual removes the residual connections,"
            + " --post-norm moves LayerNorm after each residual sum, and --compare trains all three wirings side by side.")
    let standard = flags.standardFlags()
    // A block learns this short text within a few hundred steps and then starts to memorise it.
    let training = flags.trainingFlags(TrainingDefaults(steps: 600, evalInterval: 100))
    let heads = flags.int("heads", default: 4, help: "attention heads; each gets --embed-dim / --heads channels, so it must divide --embed-dim")
    let layers = flags.optionalInt(
        "layers", range: .atLeast(1), help: "transformer blocks in a row (default: 1, or 4 with --compare)")
    let residual = flags.bool(
        "residual", default: true,
        help: "add each sublayer's output to its input, x + f(x); --no-residual passes on f(x) alone")
    let postNorm = flags.bool(
        "post-norm", help: "apply LayerNorm after each residual sum, LayerNorm(x + f(x)), instead of before each sublayer")
    let compare = flags.bool(
        "compare", help: "train three wirings from the same seed: pre-norm with residuals, no residuals, post-norm")
    try flags.parse(CommandLine.arguments.dropFirst())

    if compare.value && (!residual.value || postNorm.value) {
        throw StepError("--compare trains every wiring itself, so it cannot be combined with --no-residual or --post-norm. Leave those out.")
    }
    try AttentionConfigurationError.check(embedDim: training.embedDim.value, numHeads: heads.value)
    // Residual connections and LayerNorm placement matter less in one block than in a stack.
    let numLayers = layers.value ?? (compare.value ? 4 : 1)

    // The data is checked before any training starts.
    let corpus = try standard.loadCorpus()
    let data = try training.prepareData(corpus)
    let blockSize = training.blockSize.value
    let settings = training.settings

    print(trainingOverview(textName: corpus.summary, data: data, settings: settings, blockSize: blockSize, seed: standard.seed.value))
    print("A model that ignores its input and predicts token frequencies reaches H(next) = "
        + Format.fixed(data.unigramEntropy, digits: 4) + " on the training split.")

    // The gradients are measured on one fixed batch of training sequences, before and after training.
    var batchGenerator = SeededGenerator(seed: standard.seed.value)
    let probeBatch = try TokenDataset.randomBatch(
        from: data.dataset.train, batchSize: settings.batchSize, blockSize: blockSize, generator: &batchGenerator)

    /// A trained model with its curve and its measurements at the start and the end.
    struct Run {
        let wiring: BlockWiring
        let parameterCount: Int
        let curve: LossCurve
        let start: [LayerMeasurement]
        let end: [LayerMeasurement]
    }

    /// Builds a model wired as `wiring` from the seed, measures it, trains it and measures it again.
    func run(_ wiring: BlockWiring) throws -> Run {
        var generator = SeededGenerator(seed: standard.seed.value)
        let model = try BlockLanguageModel(
            vocabSize: data.vocabSize, blockSize: blockSize, embedDim: training.embedDim.value, numHeads: heads.value,
            numLayers: numLayers, usesResidual: wiring.usesResidual, normPlacement: wiring.normPlacement,
            generator: &generator)
        let start = model.layerMeasurements(on: probeBatch)
        let progress = ProgressBar(
            total: settings.steps, label: wiring.label, rateUnit: "tokens", rateUnitsPerCount: Double(settings.batchSize * blockSize))
        let curve = try train(model, on: data.dataset, settings: settings, generator: &generator) { step, loss in
            progress.update(step, status: "loss " + Format.fixed(loss, digits: 3))
        }
        progress.finish()
        if training.timing.value {
            print(curve.timingSummary(tokensPerStep: settings.batchSize * blockSize))
        }
        return Run(
            wiring: wiring, parameterCount: model.parameterCount, curve: curve, start: start,
            end: model.layerMeasurements(on: probeBatch))
    }

    let c = training.embedDim.value
    let blocksText = numLayers == 1 ? "1 block" : "\(numLayers) blocks"
    print("Model: \(blocksText) of \(heads.value) heads, embed dim \(c), MLP \(c)→\(4 * c)→\(c) with GELU")

    // Task: remove the residual connections (or move LayerNorm) and train; --compare does all three.
    let wirings = compare.value
        ? [BlockWiring.preNorm, .noResidual, .postNorm]
        : [BlockWiring(usesResidual: residual.value, normPlacement: postNorm.value ? .postNorm : .preNorm)]
    var runs: [Run] = []
    for wiring in wirings {
        let result = try run(wiring)
        print()
        print(wiring.label + ": " + wiring.formula + ", " + Format.grouped(result.parameterCount) + " parameters")
        print(compare.value ? result.curve.sparklines() : result.curve.report())
        runs.append(result)
    }

    // Question: what breaks? The losses, then the gradient reaching each layer and the size of the stream.
    print()
    if runs.count > 1 {
        print("Training loss at each evaluation:")
        print(trainLossTable(runs.map { ($0.wiring.label, $0.curve) }).render())
        print()
        print(comparisonTable(runs.map { ($0.wiring.label, $0.parameterCount, $0.curve) }, labelHeader: "wiring").render())
        print()
    }
    print("Gradient norm of each layer's parameters on one fixed batch, at the start and after training:")
    print(gradientTable(runs.map { ($0.wiring.label, $0.start, $0.end) }).render())
    print()
    print("RMS of the values each layer passes on (with residuals: the residual stream), same batch:")
    print(outputSizeTable(runs.map { ($0.wiring.label, $0.start, $0.end) }).render())

    if let path = training.plot.value {
        let title = "Step 07: " + runs.map(\.wiring.label).joined(separator: ", ") + ", " + blocksText
        try lossPlot(runs.map { (runs.count > 1 ? $0.wiring.label : "", $0.curve) }, title: title).write(toPath: path)
        print()
        print("wrote the loss curves to \(path)")
    }
}
