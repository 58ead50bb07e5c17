import Foundation
import MLPStep
import MultiHeadAttentionStep
import StepKit
import Tensor
import TransformerStep

runStepProgram {
    var flags = FlagParser(
        program: "Step08Transformer",
        summary: "Trains a GPT: token and position embeddings, a stack of --layers transformer blocks, a final"
            + " LayerNorm and a head that shares the token table. Prints the parameters by component next to"
            + " their closed form. --compare-layers 2,4 trains one model per layer count from the same seed,"
            + " and --ladder trains the models of steps 00 and 04 to 08 with one budget and compares their losses.")
    let standard = flags.standardFlags()
    // A stack of blocks trains more steadily at 3e-3 than at step 04's 1e-2, and 1,000 steps take seconds.
    let training = flags.trainingFlags(TrainingDefaults(steps: 1000, learningRate: 3e-3, evalInterval: 125))
    let heads = flags.int("heads", default: 4, help: "attention heads in each block, each with --embed-dim / --heads channels, so it must divide --embed-dim")
    let layers = flags.int("layers", default: 2, range: .atLeast(1), help: "transformer blocks in the stack")
    let dropout = flags.float(
        "dropout", default: 0, range: .atLeast(0, below: 1), help: "probability of zeroing each value after the embeddings and each sublayer while training")
    let bias = flags.bool("bias", help: "give every linear layer and LayerNorm a bias, as GPT-2 does")
    let compareLayers = flags.intList(
        "compare-layers", default: [], range: .atLeast(1),
        help: "train one model per layer count in the list, each from the same seed, and compare them")
    let ladder = flags.bool(
        "ladder",
        help: "train the models of steps 00, 04, 05, 06, 07 and 08 with one budget (5000 steps of 32 sequences of 8 tokens,"
            + " embed dim 32, 4 heads, 4 layers, lr 0.005, unless those flags are given) and print their losses")
    try flags.parse(CommandLine.arguments.dropFirst())

    // Question: how far down does each step's idea take the loss?
    if ladder.value {
        guard compareLayers.value.isEmpty && !bias.value && dropout.value == 0 else {
            throw StepError(
                "--ladder trains every step's model with the same settings, so it cannot be combined with"
                    + " --compare-layers, --bias or --dropout. Leave those flags out.")
        }
        try runLadder(standard: standard, training: training, heads: heads, layers: layers)
        return
    }

    // The data and the model sizes are checked before any training starts.
    try AttentionConfigurationError.check(embedDim: training.embedDim.value, numHeads: heads.value)
    let corpus = try standard.loadCorpus()
    let data = try training.prepareData(corpus)
    let settings = training.settings
    let blockSize = training.blockSize.value
    let layerCounts = compareLayers.value.isEmpty ? [layers.value] : compareLayers.value
    let configs = layerCounts.map { count in
        GPTConfig(
            vocabSize: data.vocabSize, blockSize: blockSize, embedDim: training.embedDim.value,
            numHeads: heads.value, numLayers: count, dropout: dropout.value, bias: bias.value)
    }

    print(trainingOverview(textName: corpus.summary, data: data, settings: settings, blockSize: blockSize, seed: standard.seed.value))

    /// Builds a GPT from the seed and trains it, with a progress bar on standard error.
    func trainModel(_ config: GPTConfig) throws -> (model: GPT, curve: LossCurve) {
        var generator = SeededGenerator(seed: standard.seed.value)
        let model = try GPT(config: config, generator: &generator)
        let progress = ProgressBar(
            total: settings.steps, label: "\(config.numLayers) layers", rateUnit: "tokens",
            rateUnitsPerCount: Double(settings.batchSize * blockSize))
        let curve = try train(model, on: data.dataset, settings: settings, generator: &generator) { step, loss in
            progress.update(step, status: "loss " + Format.fixed(loss, digits: 3))
        }
        progress.finish()
        return (model, curve)
    }

    // Task: train with --layers blocks, or once per entry of --compare-layers from the same seed.
    var runs: [LayerRun] = []
    for config in configs {
        let (model, curve) = try trainModel(config)
        let run = LayerRun(config: config, parameterCount: model.parameterCount, curve: curve)
        let breakdown = ParameterBreakdown(model: model)
        print()
        print("GPT with " + run.label + ": embed dim \(config.embedDim), \(config.numHeads) heads of size"
            + " \(config.embedDim / config.numHeads), block size \(config.blockSize), "
            + (config.bias ? "with biases" : "no biases") + ", dropout \(Format.significant(config.dropout))")
        if configs.count == 1 {
            print(breakdown.table().render())
            print(breakdown.formulaLines())
            print()
            print(curve.report())
        } else {
            print(breakdown.summaryLine())
            print(curve.sparklines())
        }
        if training.timing.value {
            print(curve.timingSummary(tokensPerStep: settings.batchSize * blockSize))
        }
        runs.append(run)
    }

    // Question: what changes with depth, and what stays the same?
    if runs.count > 1 {
        let c = training.embedDim.value
        print()
        print(layerComparisonTable(runs, batchSize: settings.batchSize, showsTiming: training.timing.value).render())
        print()
        print("Validation loss during training:")
        print(validationSparklines(runs.map { ($0.label, $0.curve) }))
        print()
        print("Each layer adds one block of 12·C² + 2·C = 12·\(c)² + 2·\(c) = " + Format.grouped(12 * c * c + 2 * c)
            + (bias.value ? " + 11·C = " + Format.grouped(12 * c * c + 13 * c) : "")
            + " parameters. The embeddings, the final LayerNorm and the head stay the same.")
        if !training.timing.value {
            print("FLOPs per step estimates the work of one training step, and --timing adds the measured time.")
        }
    }

    if let path = training.plot.value {
        let title = runs.count > 1
            ? "Step 08: GPT with " + runs.map(\.label).joined(separator: " and ")
            : "Step 08: GPT with " + runs[0].label
        try lossPlot(runs.map { (runs.count > 1 ? $0.label : "", $0.curve) }, title: title).write(toPath: path)
        print()
        print("wrote the loss curves to \(path)")
    }
}

/// Trains every rung of the loss ladder and prints one table of their losses.
///
/// The ladder's own sizes apply unless a size or training flag was given on the command line.
func runLadder(standard: StandardFlags, training: TrainingFlags, heads: Flag<Int>, layers: Flag<Int>) throws {
    var settings = LadderSettings()
    if training.steps.isSet { settings.training.steps = training.steps.value }
    if training.batchSize.isSet { settings.training.batchSize = training.batchSize.value }
    if training.learningRate.isSet { settings.training.learningRate = training.learningRate.value }
    if training.evalInterval.isSet { settings.training.evalInterval = training.evalInterval.value }
    if training.blockSize.isSet { settings.blockSize = training.blockSize.value }
    if training.embedDim.isSet { settings.embedDim = training.embedDim.value }
    if training.valFraction.isSet { settings.valFraction = training.valFraction.value }
    if heads.isSet { settings.numHeads = heads.value }
    if layers.isSet { settings.numLayers = layers.value }
    try AttentionConfigurationError.check(embedDim: settings.embedDim, numHeads: settings.numHeads)

    let corpus = try standard.loadCorpus()
    let ladder = try LossLadder(text: corpus.text, settings: settings)
    let budget = settings.training
    print(trainingOverview(
        textName: corpus.summary, data: ladder.data, settings: budget, blockSize: settings.blockSize, seed: standard.seed.value))
    print("Every rung trains with these settings on the same batches in the same order: embed dim \(settings.embedDim),"
        + " \(settings.numHeads) heads for steps 06 to 08, \(settings.numLayers) blocks for step 08.")

    var results: [LadderResult] = []
    for rung in LadderRung.allCases {
        let progress = ProgressBar(
            total: budget.steps, label: "step " + String(format: "%02d", rung.step), rateUnit: "tokens",
            rateUnitsPerCount: Double(budget.batchSize * settings.blockSize))
        let result = try ladder.run(rung, seed: standard.seed.value) { step, loss in
            progress.update(step, status: "loss " + Format.fixed(loss, digits: 3))
        }
        progress.finish()
        results.append(result)
    }

    print()
    print(ladderTable(results).render())
    print("The train and validation losses are the mean over every window of each split after training."
        + " The seconds are the time of the training steps on this machine and vary from run to run.")
    print()
    print("Validation loss during training (random batches, every \(budget.evalInterval) steps):")
    print(validationSparklines(results.map { ("step " + String(format: "%02d", $0.rung.step), $0.curve) }))

    if let path = training.plot.value {
        var plot = LinePlot(title: "Loss ladder: validation loss of each step's model", xLabel: "step", yLabel: "loss")
        for result in results {
            plot.addSeries("step " + String(format: "%02d", result.rung.step), x: result.curve.steps, y: result.curve.validation)
        }
        try plot.write(toPath: path)
        print()
        print("wrote the validation curves to \(path)")
    }
}
