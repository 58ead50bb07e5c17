import Foundation
import MLPStep
import StepKit

// Tables of step 08's program: models with different numbers of layers side by side, and the loss
// ladder. Nothing here prints; each function returns what the program prints.

/// One trained GPT of a comparison of layer counts.
public struct LayerRun {
    /// The sizes the model was built with.
    public let config: GPTConfig
    /// The number of values of the model's parameters.
    public let parameterCount: Int
    /// The losses measured during training.
    public let curve: LossCurve

    /// Creates a run.
    public init(config: GPTConfig, parameterCount: Int, curve: LossCurve) {
        self.config = config
        self.parameterCount = parameterCount
        self.curve = curve
    }

    /// A label such as "2 layers".
    public var label: String {
        config.numLayers == 1 ? "1 layer" : "\(config.numLayers) layers"
    }
}

/// Returns a table with one row per run: layers, parameters, estimated floating-point operations
/// per training step, and the final train and validation loss.
///
/// With `showsTiming`, a last column gives the measured milliseconds per training step, which
/// depend on the machine and its load, so it is left out of output meant to be reproduced.
public func layerComparisonTable(_ runs: [LayerRun], batchSize: Int, showsTiming: Bool = false, digits: Int = 4) -> Table {
    var columns: [Table.Column] = [
        Table.Column("model", alignment: .left), "parameters", "FLOPs per step", "final train loss", "final validation loss",
    ]
    if showsTiming { columns.append("ms per step (this machine)") }
    var table = Table(columns: columns)
    for run in runs {
        var row = [
            run.label, Format.grouped(run.parameterCount), Format.compact(run.config.trainingFLOPs(batchSize: batchSize)),
            Format.fixed(run.curve.finalTrain, digits: digits), Format.fixed(run.curve.finalValidation, digits: digits),
        ]
        if showsTiming {
            let steps = max(run.curve.steps.last ?? 0, 1)
            row.append(Format.fixed(run.curve.trainingSeconds * 1000 / Double(steps), digits: 2))
        }
        table.addRow(row)
    }
    return table
}

/// Returns one line per run with the sparkline of its validation loss, each on its own scale.
public func validationSparklines(_ runs: [(label: String, curve: LossCurve)], width: Int = 40) -> String {
    let labelWidth = runs.map(\.label.count).max() ?? 0
    return runs.map { run in
        run.label.padding(toLength: labelWidth, withPad: " ", startingAt: 0) + "  "
            + Sparkline(run.curve.validation, width: width).description
    }.joined(separator: "\n")
}

/// Returns the loss ladder as a table: one row per rung with its step, model, parameters, the
/// loss over the whole training and validation splits and, with `showsSeconds`, the seconds its
/// training steps took on this machine.
public func ladderTable(_ results: [LadderResult], showsSeconds: Bool = true, digits: Int = 4) -> Table {
    var columns: [Table.Column] = [
        "step", Table.Column("model", alignment: .left), "parameters", "train loss", "validation loss",
    ]
    if showsSeconds { columns.append("seconds") }
    var table = Table(columns: columns)
    for result in results {
        var row = [
            String(format: "%02d", result.rung.step), result.model, Format.grouped(result.parameterCount),
            Format.fixed(result.trainLoss, digits: digits), Format.fixed(result.validationLoss, digits: digits),
        ]
        if showsSeconds { row.append(Format.fixed(result.curve.trainingSeconds, digits: 1)) }
        table.addRow(row)
    }
    return table
}
