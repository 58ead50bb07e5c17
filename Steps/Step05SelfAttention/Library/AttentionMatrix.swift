import StepKit

/// The attention weights of one sequence, `[T, T]`: row t contains the weight position t gives to
/// each position s. With softmax, row t is a probability distribution over positions 0…t.
public struct AttentionMatrix {
    /// T, the number of rows and columns.
    public let size: Int
    /// The weights in row-major order: entry `t * size + s` is the weight of position s in row t.
    public let values: [Float]

    /// Creates a matrix from `size * size` values in row-major order.
    public init(size: Int, values: [Float]) {
        precondition(values.count == size * size, "AttentionMatrix: \(size)×\(size) needs \(size * size) values, got \(values.count)")
        self.size = size
        self.values = values
    }

    /// Returns the weight of position `column` in row `row`.
    public subscript(row: Int, column: Int) -> Float {
        values[row * size + column]
    }

    /// Returns row `t`.
    public func row(_ t: Int) -> ArraySlice<Float> {
        values[(t * size)..<((t + 1) * size)]
    }

    /// The sum of each row, added in `Double`.
    public var rowSums: [Double] {
        (0..<size).map { t in row(t).reduce(0.0) { $0 + Double($1) } }
    }

    /// The largest |row sum − 1|.
    public var maxRowSumDeviation: Double {
        rowSums.map { abs($0 - 1) }.max() ?? 0
    }

    /// Whether every entry above the diagonal, where a position would look ahead, is exactly 0.
    public var isCausal: Bool {
        for t in 0..<size {
            for s in (t + 1)..<max(t + 1, size) where self[t, s] != 0 {
                return false
            }
        }
        return true
    }

    /// The entries on and below the diagonal, the ones a position may look at.
    public var visibleEntries: [Float] {
        (0..<size).flatMap { t in row(t).prefix(t + 1) }
    }

    /// Returns three lines of facts about the weights: how many rows sum to 1 within `tolerance`,
    /// the range and sign of the weights a position may use, and whether the masked entries are 0.
    public func summary(tolerance: Double = 1e-5) -> String {
        let sums = rowSums
        let sumsToOne = sums.filter { abs($0 - 1) <= tolerance }.count
        let visible = visibleEntries
        let negative = visible.filter { $0 < 0 }.count
        let masked = size * (size - 1) / 2
        let digits = 3
        let withinTolerance = "(within " + Format.fixed(tolerance, digits: 5) + ")"
        var lines: [String] = []
        if size == 1 {
            lines.append(
                "row sums: the one row sums to " + Format.fixed(sums[0], digits: digits)
                    + (sumsToOne == 1 ? ", which is 1 " + withinTolerance : ", which is not 1 " + withinTolerance))
            lines.append("weights on and below the diagonal: the one weight is " + Format.significant(visible[0], digits: digits))
            lines.append("entries above the diagonal (later positions): none, because one position has no later position")
            return lines.joined(separator: "\n")
        }
        lines.append(
            "row sums: \(sumsToOne) of \(size) rows sum to 1 \(withinTolerance),"
                + " sums from " + Format.fixed(sums.min() ?? 0, digits: digits) + " to " + Format.fixed(sums.max() ?? 0, digits: digits))
        lines.append(
            "weights on and below the diagonal: from " + Format.significant(visible.min() ?? 0, digits: digits)
                + " to " + Format.significant(visible.max() ?? 0, digits: digits)
                + ", \(negative) of \(visible.count) negative")
        lines.append(
            isCausal
                ? "entries above the diagonal (later positions): all \(masked) exactly 0"
                : "entries above the diagonal (later positions): NOT all 0, so positions see the future")
        return lines.joined(separator: "\n")
    }

    /// Returns the matrix as a heatmap with the tokens as labels: rows `"t token"`, columns the
    /// tokens, and each row's sum in an extra column.
    ///
    /// Entries above the diagonal become NaN, so that the shade or colour scale spans only the
    /// weights a position may use. `heatmapText` draws them as "·".
    /// - Parameter tokens: one printable label per position.
    public func heatmap(tokens: [String], title: String? = nil) -> Heatmap {
        precondition(tokens.count == size, "AttentionMatrix.heatmap: \(size) positions but \(tokens.count) token labels")
        let width = String(size - 1).count
        let rowLabels = tokens.enumerated().map { position, token in
            String(repeating: " ", count: width - String(position).count) + "\(position) \(token)"
        }
        var drawnValues = values
        for t in 0..<size {
            for s in (t + 1)..<max(t + 1, size) {
                drawnValues[t * size + s] = .nan
            }
        }
        var heatmap = Heatmap(values: drawnValues, rows: size, columns: size, rowLabels: rowLabels, columnLabels: tokens)
        heatmap.title = title
        heatmap.extraColumn = Heatmap.ExtraColumn(header: "row sum", values: rowSums, digits: 3)
        return heatmap
    }

    /// Returns the heatmap of `heatmap(tokens:title:)` as text, with every entry above the diagonal
    /// drawn as "·" and a line under the legend saying so.
    ///
    /// Without softmax the weights can be negative, so a scale from the smallest to the largest
    /// weight would put a masked 0 in its middle shade, and the mask would look like attention to
    /// later positions. The masked entries are therefore left out of the scale and marked apart.
    /// When every visible weight is the same, as for a single position, no scale can be drawn, and
    /// the weights are printed as numbers.
    /// - Parameters:
    ///   - showsValues: print the weights as numbers (in colour: on their colours).
    ///   - style: the heatmap style, or nil for `Heatmap.automaticStyle`.
    public func heatmapText(
        tokens: [String], title: String? = nil, showsValues: Bool = false, style: Heatmap.Style? = nil
    ) -> String {
        var heatmap = heatmap(tokens: tokens, title: title)
        let visible = visibleEntries
        let isConstant = visible.min() == visible.max()
        heatmap.showsValues = showsValues || isConstant
        var style = style ?? heatmap.automaticStyle
        if isConstant && style == .shades { style = .numbers }
        var lines = heatmap.render(style: style).components(separatedBy: "\n")
        var legend = lines.removeLast()

        // Heatmap draws a NaN cell as "?" in shades, or as its number text where numbers are shown,
        // right-aligned in a cell as wide as the widest of 2, a column label (cut at
        // `maxColumnLabelWidth`) and a printed number.
        let showsNumbers = style == .numbers || (style == .color && heatmap.showsValues)
        let mark = showsNumbers ? Format.fixed(Double.nan, digits: heatmap.digits) : "?"
        var cellWidth = max(2, tokens.map { min(Terminal.displayWidth(of: $0), heatmap.maxColumnLabelWidth) }.max() ?? 0)
        if showsNumbers {
            cellWidth = max(cellWidth, heatmap.values.joined().map { Format.fixed($0, digits: heatmap.digits).count }.max() ?? 0)
        }
        let maskedCell = " " + String(repeating: " ", count: max(0, cellWidth - mark.count)) + mark
        let dotCell = " " + String(repeating: " ", count: cellWidth - 1) + "·"
        let firstRow = lines.count - size
        for t in 0..<size {
            let masked = size - 1 - t
            let line = lines[firstRow + t]
            guard masked > 0, let separator = line.range(of: " │ ", options: .backwards) else { continue }
            let cells = String(line[..<separator.lowerBound])
            let maskedCells = String(repeating: maskedCell, count: masked)
            // A layout other than the expected one keeps Heatmap's own marks.
            guard cells.hasSuffix(maskedCells) else { continue }
            lines[firstRow + t] = String(cells.dropLast(maskedCells.count)) + String(repeating: dotCell, count: masked)
                + line[separator.lowerBound...]
        }

        if legend.hasSuffix("; ? is NaN") { legend.removeLast("; ? is NaN".count) }
        if isConstant, let weight = visible.first {
            legend = (visible.count == 1 ? "the one weight is " : "all \(visible.count) weights on and below the diagonal are ")
                + Format.significant(weight, digits: 3) + ", printed as a number because equal values set no shade scale"
        }
        lines.append(legend)
        if size > 1 {
            lines.append("\"·\": a masked entry above the diagonal (a later position), whose weight is exactly 0")
        }
        return lines.joined(separator: "\n")
    }
}
