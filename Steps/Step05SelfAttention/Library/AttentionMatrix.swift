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
        var lines: [String] = []
        lines.append(
            "row sums: \(sumsToOne) of \(size) rows sum to 1 (within \(Format.fixed(tolerance, digits: 5))),"
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

    /// Returns the matrix as a heatmap with the tokens as labels: rows `"t token"`, columns the tokens,
    /// and each row's sum in an extra column.
    /// - Parameter tokens: one printable label per position.
    public func heatmap(tokens: [String], title: String? = nil) -> Heatmap {
        precondition(tokens.count == size, "AttentionMatrix.heatmap: \(size) positions but \(tokens.count) token labels")
        let width = String(size - 1).count
        let rowLabels = tokens.enumerated().map { position, token in
            String(repeating: " ", count: width - String(position).count) + "\(position) \(token)"
        }
        var heatmap = Heatmap(values: values, rows: size, columns: size, rowLabels: rowLabels, columnLabels: tokens)
        heatmap.title = title
        heatmap.extraColumn = Heatmap.ExtraColumn(header: "row sum", values: rowSums, digits: 3)
        return heatmap
    }
}
