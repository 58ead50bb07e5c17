import MLPStep
import StepKit

// Tables that put the runs of differently wired models side by side, for step 07's program.
// Nothing here prints: each function returns a table the program prints.

/// Returns a table of the training loss at each evaluation, one column per run. All runs must have
/// been evaluated at the same steps.
public func trainLossTable(_ runs: [(label: String, curve: LossCurve)], digits: Int = 4) -> Table {
    precondition(!runs.isEmpty, "trainLossTable: needs at least one run")
    let steps = runs[0].curve.steps
    for run in runs {
        precondition(run.curve.steps == steps, "trainLossTable: run \(run.label) was evaluated at other steps than \(steps)")
    }
    var table = Table(columns: ["step"] + runs.map { Table.Column($0.label) })
    for (index, step) in steps.enumerated() {
        table.addRow([String(step)] + runs.map { Format.fixed($0.curve.train[index], digits: digits) })
    }
    return table
}

/// Returns a table with one row per layer and, for each run, the gradient norm at the start and at
/// the end: columns "<label> start" and "<label> end". All runs must measure the same layers.
public func gradientTable(_ runs: [(label: String, start: [LayerMeasurement], end: [LayerMeasurement])]) -> Table {
    measurementTable(runs) { Format.significant($0.gradientNorm, digits: 3) }
}

/// Returns a table like `gradientTable(_:)` of each layer's output RMS; the head has no row.
public func outputSizeTable(_ runs: [(label: String, start: [LayerMeasurement], end: [LayerMeasurement])]) -> Table {
    measurementTable(runs, includesHead: false) { $0.outputRMS.map { Format.significant($0, digits: 3) } ?? "" }
}

private func measurementTable(
    _ runs: [(label: String, start: [LayerMeasurement], end: [LayerMeasurement])], includesHead: Bool = true,
    cell: (LayerMeasurement) -> String
) -> Table {
    precondition(!runs.isEmpty, "measurementTable: needs at least one run")
    let layerNames = runs[0].start.map(\.layer)
    for run in runs {
        precondition(
            run.start.map(\.layer) == layerNames && run.end.map(\.layer) == layerNames,
            "measurementTable: run \(run.label) measured other layers than \(layerNames)")
    }
    var columns: [Table.Column] = [Table.Column("layer", alignment: .left)]
    for run in runs {
        columns += [Table.Column(run.label + " start"), Table.Column(run.label + " end")]
    }
    var table = Table(columns: columns)
    for (index, name) in layerNames.enumerated() where includesHead || runs[0].start[index].outputRMS != nil {
        var row = [name]
        for run in runs {
            row += [cell(run.start[index]), cell(run.end[index])]
        }
        table.addRow(row)
    }
    return table
}
