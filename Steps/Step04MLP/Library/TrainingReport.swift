import Foundation
import StepKit

// Text and plots of training runs for the programs of steps 04 to 08. Nothing here prints:
// each function returns what a program prints or writes.

extension LossCurve {
    /// Returns the curve as a table with one row per evaluation: step, train loss, validation loss.
    public func table(digits: Int = 4) -> Table {
        var table = Table(columns: ["step", "train loss", "validation loss"])
        for (index, step) in steps.enumerated() {
            table.addRow([
                String(step), Format.fixed(train[index], digits: digits), Format.fixed(validation[index], digits: digits),
            ])
        }
        return table
    }

    /// Returns two lines, one sparkline of the train loss and one of the validation loss, each
    /// with its minimum and maximum.
    public func sparklines(width: Int = 40) -> String {
        let rows = [("train", train), ("validation", validation)]
        return rows.map { name, values in
            name.padding(toLength: 10, withPad: " ", startingAt: 0) + "  " + Sparkline(values, width: width).description
        }.joined(separator: "\n")
    }

    /// Returns the table and the sparklines, separated by a blank line.
    public func report(digits: Int = 4) -> String {
        table(digits: digits).render() + "\n\n" + sparklines()
    }

    /// Returns one line with the time the training steps took and the tokens they processed per
    /// second. The numbers change from run to run, so programs print it only when asked.
    public func timingSummary(tokensPerStep: Int) -> String {
        let stepCount = steps.last ?? 0
        var text = "training steps took " + Format.duration(seconds: trainingSeconds)
        if trainingSeconds > 0 && stepCount > 0 {
            let rate = Double(stepCount * tokensPerStep) / trainingSeconds
            text += " (" + Format.compact(rate) + " tokens/s)"
        }
        return text
    }
}

/// Returns a line plot of the train and validation loss of each run, named `"<name> train"` and
/// `"<name> validation"`, or just `"train"` and `"validation"` for a single unnamed run.
public func lossPlot(_ runs: [(name: String, curve: LossCurve)], title: String) -> LinePlot {
    var plot = LinePlot(title: title, xLabel: "step", yLabel: "loss")
    for run in runs {
        let prefix = run.name.isEmpty ? "" : run.name + " "
        plot.addSeries(prefix + "train", x: run.curve.steps, y: run.curve.train)
        plot.addSeries(prefix + "validation", x: run.curve.steps, y: run.curve.validation)
    }
    return plot
}

/// Returns a table comparing finished runs: one row per run with its parameter count and final
/// train and validation loss.
/// - Parameter runs: a label such as "depth 2", the model's parameter count and its curve.
public func comparisonTable(
    _ runs: [(label: String, parameterCount: Int, curve: LossCurve)], labelHeader: String = "model", digits: Int = 4
) -> Table {
    var table = Table(columns: [
        Table.Column(labelHeader, alignment: .left), "parameters", "final train loss", "final validation loss",
    ])
    for run in runs {
        table.addRow([
            run.label, Format.grouped(run.parameterCount),
            Format.fixed(run.curve.finalTrain, digits: digits), Format.fixed(run.curve.finalValidation, digits: digits),
        ])
    }
    return table
}

/// Returns "ln(V) = x.xxxx": the loss of a model that gives every one of `vocabSize` tokens the
/// same probability, the level an untrained model starts near.
public func uniformLossNote(vocabSize: Int, digits: Int = 4) -> String {
    "ln(\(vocabSize)) = " + Format.fixed(Foundation.log(Double(vocabSize)), digits: digits)
}

/// Returns the three lines a training program prints first: the text and its split, the training
/// settings, and the two reference losses (uniform guessing and counted bigrams).
/// - Parameter textName: how the text is named, such as `Corpus.summary`.
public func trainingOverview(
    textName: String, data: TokenizedCorpus, settings: ShortTraining, blockSize: Int, seed: UInt64
) -> String {
    [
        "Text: " + textName + ", " + data.summary,
        "Training: " + counted(settings.steps, "step") + " of " + counted(settings.batchSize, "sequence")
            + " of " + counted(blockSize, "token") + ","
            + " learning rate " + Format.significant(settings.learningRate) + ", seed \(seed)",
        "Reference losses: uniform guessing " + uniformLossNote(vocabSize: data.vocabSize)
            + ", counted bigrams H(next | current) = " + Format.fixed(data.bigramEntropy, digits: 4)
            + " on the training split",
    ].joined(separator: "\n")
}

/// Returns `count` and the noun, plural unless the count is 1, as in "1 step" or "2000 steps".
/// The count has no digit grouping, as the training overview has always printed it.
func counted(_ count: Int, _ noun: String) -> String {
    "\(count) " + (count == 1 ? noun : noun + "s")
}
