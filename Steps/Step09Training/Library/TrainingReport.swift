import Foundation
import StepKit

// Text and plots of training runs for the step 09 program. Nothing here prints: each function
// returns what the program prints or writes.

/// The log a run prints: one header, then one line per evaluation with the step, both losses, the
/// learning rate, the interval's gradient norms and how many of its steps were clipped.
public struct EvaluationLog {
    /// The width of the step column, enough for the run's last step.
    public let stepWidth: Int
    /// Whether each line ends with the milliseconds per step, which vary from run to run.
    public let showsTiming: Bool

    private static let columnWidths = [10, 10, 8, 9, 9, 9]

    /// Creates a log for a run of `maxSteps` steps.
    public init(maxSteps: Int, showsTiming: Bool) {
        stepWidth = max(4, String(maxSteps).count)
        self.showsTiming = showsTiming
    }

    /// Returns the header line.
    public var header: String {
        var cells = ["step".leftPadded(to: stepWidth)]
        let names = ["train loss", "val loss", "lr", "grad norm", "max norm", "clipped"]
        cells += zip(names, Self.columnWidths).map { $0.leftPadded(to: $1) }
        if showsTiming { cells.append("ms/step") }
        return cells.joined(separator: " │ ")
    }

    /// Returns the line under the header, with "┼" where the header has "│".
    public var rule: String {
        String(header.map { $0 == "│" ? "┼" : "─" })
    }

    /// Returns the line of one evaluation; `learningRate` is the last step's rate, or nil before
    /// the first step.
    public func line(_ evaluation: Evaluation, statistics: IntervalStatistics, learningRate: Float?) -> String {
        let hasSteps = statistics.stepCount > 0
        var cells = [String(evaluation.step).leftPadded(to: stepWidth)]
        let values = [
            Format.fixed(evaluation.trainLoss, digits: 4),
            Format.fixed(evaluation.validationLoss, digits: 4),
            learningRate.map { String(format: "%.2e", Double($0)) } ?? "—",
            hasSteps ? Format.fixed(statistics.meanGradNorm, digits: 3) : "—",
            hasSteps ? Format.fixed(statistics.maxGradNorm, digits: 3) : "—",
            hasSteps ? "\(statistics.clippedSteps)/\(statistics.stepCount)" : "—",
        ]
        cells += zip(values, Self.columnWidths).map { $0.leftPadded(to: $1) }
        if showsTiming && hasSteps {
            cells.append(Format.fixed(statistics.millisecondsPerStep, digits: 1).leftPadded(to: 7))
        }
        return cells.joined(separator: " │ ")
    }
}

extension TrainingHistory {
    /// Returns three sparklines: the loss of every step's batch, the validation loss of every
    /// evaluation, and the learning rate of every step, each with its minimum and maximum.
    public func sparklines(width: Int = 60) -> String {
        let rows: [(String, [Float])] = [
            ("batch loss", steps.map(\.loss)),
            ("validation loss", evaluations.map(\.validationLoss)),
            ("learning rate", steps.map(\.learningRate)),
        ]
        return rows.map { name, values in
            name.rightPadded(to: 16) + Sparkline(values, width: width).description
        }.joined(separator: "\n")
    }

    /// Returns the loss curves as a plot: the batch loss of every step, the train and validation
    /// loss of every evaluation, and the learning rate on a second axis at the right.
    public func plot(title: String) -> LinePlot {
        var plot = LinePlot(title: title, xLabel: "step", yLabel: "loss")
        plot.addSeries("batch loss", x: steps.map(\.step), y: steps.map(\.loss))
        plot.addSeries("train loss", x: evaluations.map(\.step), y: evaluations.map(\.trainLoss))
        plot.addSeries("validation loss", x: evaluations.map(\.step), y: evaluations.map(\.validationLoss))
        plot.rightYLabel = "learning rate"
        plot.addSeries("learning rate", x: steps.map(\.step), y: steps.map(\.learningRate), axis: .right)
        return plot
    }

    /// Returns the mean batch loss of the last `count` steps (fewer when the run is shorter), or NaN
    /// before any step. It is less noisy than the last step's loss alone.
    public func recentLoss(count: Int = 10) -> Float {
        let recent = steps.suffix(count).map(\.loss)
        return recent.isEmpty ? .nan : recent.reduce(0, +) / Float(recent.count)
    }
}

/// Returns the comparison as a table, one row per run: its learning rate and clipping, whether it
/// finished or diverged, its losses at the end, and how often clipping was active.
public func runComparisonTable(_ runs: [ComparedRun]) -> Table {
    var table = Table(columns: [
        Table.Column("run", alignment: .left), "lr", Table.Column("clip", alignment: .right),
        Table.Column("status", alignment: .left), "last 10 batches", "train loss", "val loss", "clipped steps",
        "max grad norm",
    ])
    for run in runs {
        let finished = run.divergence == nil
        let lastEvaluation = run.history.evaluations.last
        let stepCount = run.history.steps.count
        table.addRow([
            run.label,
            Format.significant(run.config.learningRate, digits: 3),
            run.config.maxGradNorm.map { Format.significant($0, digits: 3) } ?? "off",
            run.divergedAtStep.map { "diverged at step \($0)" } ?? "finished",
            Format.fixed(run.history.recentLoss(), digits: 4),
            finished ? Format.fixed(lastEvaluation?.trainLoss ?? .nan, digits: 4) : "—",
            finished ? Format.fixed(lastEvaluation?.validationLoss ?? .nan, digits: 4) : "—",
            run.config.maxGradNorm == nil ? "—" : "\(run.clippedSteps)/\(stepCount)",
            Format.fixed(run.history.steps.map(\.gradNorm).max() ?? .nan, digits: 2),
        ])
    }
    return table
}

/// Returns one labelled sparkline of the batch loss per run, each scaled to its own minimum and
/// maximum. The line of a run that diverged ends where it stopped.
public func runComparisonSparklines(_ runs: [ComparedRun], width: Int = 60) -> String {
    let labelWidth = (runs.map(\.label.count).max() ?? 0) + 2
    return runs.map { run in
        run.label.rightPadded(to: labelWidth) + Sparkline(run.history.steps.map(\.loss), width: width).description
    }.joined(separator: "\n")
}

/// Returns the batch loss of every run on one plot.
public func runComparisonPlot(_ runs: [ComparedRun], title: String) -> LinePlot {
    var plot = LinePlot(title: title, xLabel: "step", yLabel: "batch loss")
    for run in runs {
        plot.addSeries(run.label, x: run.history.steps.map(\.step), y: run.history.steps.map(\.loss))
    }
    return plot
}

extension String {
    /// Returns the string with spaces in front, `width` characters long (longer strings unchanged).
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }

    /// Returns the string with spaces after it, `width` characters long (longer strings unchanged).
    func rightPadded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
