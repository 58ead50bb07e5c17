import SelfAttentionStep
import StepKit
import Tensor

// Text views of multi-head attention for step 06's program. Nothing here prints: each function
// returns what the program prints.

/// Returns a table of the tensors of one forward pass per model: what each stage is, its shape in
/// symbols, and its shape with the actual numbers in one column per model.
/// - Parameter runs: a column header such as "4 heads" and the stages of that model's layer; a
///   single run gets the header "here".
public func shapeTable(_ runs: [(label: String, stages: MultiHeadAttention.Stages)]) -> Table {
    precondition(!runs.isEmpty, "shapeTable: needs the stages of at least one model")
    let headers = runs.count == 1 ? ["here"] : runs.map(\.label)
    var table = Table(columns: [
        Table.Column("stage", alignment: .left), Table.Column("shape", alignment: .left),
    ] + headers.map { Table.Column($0, alignment: .left) })

    let stages: [(String, String, (MultiHeadAttention.Stages) -> Tensor)] = [
        ("input x", "[B, T, C]", \.input),
        ("queries, split into heads", "[B, numHeads, T, headSize]", \.queries),
        ("keys, split into heads", "[B, numHeads, T, headSize]", \.keys),
        ("values, split into heads", "[B, numHeads, T, headSize]", \.values),
        ("attention, one matrix per head", "[B, numHeads, T, T]", \.attention),
        ("heads' outputs", "[B, numHeads, T, headSize]", \.heads),
        ("heads concatenated", "[B, T, C]", \.concatenated),
        ("projection = output", "[B, T, C]", \.output),
    ]
    for (stage, symbols, tensor) in stages {
        let shapes = runs.map { "[" + tensor($0.stages).shape.map(String.init).joined(separator: ", ") + "]" }
        table.addRow([stage, symbols] + shapes)
    }
    return table
}

/// Returns a table of where each head looks on average. The columns are the weight a row gives
/// its own position, the weight on the position just before it, and the mean distance back,
/// Σₛ w[t, s]·(t − s). Each is averaged over the rows t ≥ 1, because row 0 can only look at itself.
/// - Parameter models: a label such as "4 heads" and one attention matrix per head of that model;
///   the table has a model column only when there is more than one model.
public func headPatternTable(_ models: [(label: String, matrices: [AttentionMatrix])]) -> Table {
    let labelled = models.count > 1
    var table = Table(columns: (labelled ? [Table.Column("model", alignment: .left)] : [])
        + ["head", "on own token", "on previous token", "mean distance back"])
    for model in models {
        for (index, matrix) in model.matrices.enumerated() {
            let rows = Array(1..<max(matrix.size, 1))
            let count = Double(max(rows.count, 1))
            let own = rows.reduce(0.0) { $0 + Double(matrix[$1, $1]) } / count
            let previous = rows.reduce(0.0) { $0 + Double(matrix[$1, $1 - 1]) } / count
            let distance = rows.reduce(0.0) { total, t in
                total + (0...t).reduce(0.0) { $0 + Double(matrix[t, $1]) * Double(t - $1) }
            } / count
            let cells = [
                "\(index + 1)", Format.fixed(own, digits: 2), Format.fixed(previous, digits: 2), Format.fixed(distance, digits: 2),
            ]
            if labelled {
                // The model's name goes on its first row only, so each model reads as one group.
                let name = index == 0 ? model.label : ""
                table.addRow([name] + cells)
            } else {
                table.addRow(cells)
            }
        }
    }
    return table
}

/// Returns one heatmap per head, placed side by side in rows of at most `width` columns, with the
/// tokens as labels, followed by one shading legend.
///
/// Only the leftmost heatmap of each row has row labels, because all heads attend over the same tokens.
/// Attention weights of 2 or more positions always span 0 to 1 (masked entries are 0 and row 0 is
/// exactly 1), so the heads share one scale and one legend.
/// - Parameters:
///   - matrices: one `[T, T]` attention matrix per head, all of the same size.
///   - tokens: one printable label per position.
///   - width: the widest a line may be; a heatmap wider than this gets a row to itself.
///   - style: the heatmap style, or nil for `Heatmap.automaticStyle`.
public func sideBySideHeatmaps(
    _ matrices: [AttentionMatrix], tokens: [String], width: Int, showsValues: Bool = false, style: Heatmap.Style? = nil
) -> String {
    precondition(!matrices.isEmpty, "sideBySideHeatmaps: needs at least one matrix")
    let gap = "   "

    func render(_ index: Int, withRowLabels: Bool) -> (lines: [String], legend: String) {
        let matrix = matrices[index]
        precondition(tokens.count == matrix.size, "sideBySideHeatmaps: \(matrix.size) positions but \(tokens.count) token labels")
        let positionWidth = String(matrix.size - 1).count
        let rowLabels = tokens.enumerated().map { position, token in
            withRowLabels
                ? String(repeating: " ", count: positionWidth - String(position).count) + "\(position) \(token)"
                : ""
        }
        var heatmap = Heatmap(values: matrix.values, rows: matrix.size, columns: matrix.size, rowLabels: rowLabels, columnLabels: tokens)
        heatmap.title = "head \(index + 1)"
        heatmap.showsValues = showsValues
        var lines = heatmap.render(style: style).components(separatedBy: "\n")
        let legend = lines.removeLast()
        return (lines, legend)
    }

    // Fill each row of heatmaps from the left while the next one still fits in `width`.
    var output: [String] = []
    var legend = ""
    var next = 0
    while next < matrices.count {
        var blocks = [render(next, withRowLabels: true)]
        legend = blocks[0].legend
        var used = blocks[0].lines.map(visibleWidth).max() ?? 0
        next += 1
        while next < matrices.count {
            let candidate = render(next, withRowLabels: false)
            let candidateWidth = candidate.lines.map(visibleWidth).max() ?? 0
            guard used + gap.count + candidateWidth <= width else { break }
            blocks.append(candidate)
            used += gap.count + candidateWidth
            next += 1
        }
        if !output.isEmpty { output.append("") }
        output += joinHorizontally(blocks.map(\.lines), gap: gap)
    }
    // With numbers, each heatmap's legend is its own value range, so none is shown for all of them.
    let usesNumbers = style == .numbers || (style == nil && showsValues && !Terminal.standardOutputSupportsColor)
    if !usesNumbers { output.append(legend) }
    return output.joined(separator: "\n")
}

/// Returns the blocks of lines placed next to each other, each padded to its widest line.
private func joinHorizontally(_ blocks: [[String]], gap: String) -> [String] {
    let widths = blocks.map { $0.map(visibleWidth).max() ?? 0 }
    let height = blocks.map(\.count).max() ?? 0
    return (0..<height).map { row in
        var line = ""
        for (index, block) in blocks.enumerated() {
            let text = row < block.count ? block[row] : ""
            let isLast = index == blocks.count - 1
            line += isLast ? text : text + String(repeating: " ", count: widths[index] - visibleWidth(text)) + gap
        }
        while line.last == " " { line.removeLast() }
        return line
    }
}

/// Returns the number of terminal columns `text` occupies, leaving out colour escape sequences.
private func visibleWidth(_ text: String) -> Int {
    var plain = ""
    var insideEscape = false
    for character in text {
        if insideEscape {
            if character == "m" { insideEscape = false }
        } else if character == "\u{1B}" {
            insideEscape = true
        } else {
            plain.append(character)
        }
    }
    return Terminal.displayWidth(of: plain)
}
