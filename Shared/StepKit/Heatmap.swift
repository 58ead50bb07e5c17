/// A matrix drawn in the terminal as a labelled heatmap, such as an attention matrix with tokens
/// as row and column labels.
///
///     let heatmap = Heatmap([[0.0, 1], [2, 3]], rowLabels: ["a", "b"], columnLabels: ["x", "y"])
///     print(heatmap.render(style: .shades))
///
/// prints
///
///        x  y
///     a    ░░
///     b ▓▓ ██
///     shades: " " from 0, "░" from 0.6, "▒" from 1.2, "▓" from 1.8, "█" from 2.4 to 3
///
/// Cells are shaded by `scale`. In colour, each cell gets a 256-colour background. In plain text,
/// each cell gets one of five shades " ░▒▓█", one per fifth of the scale range, or its number.
/// The line under the matrix states the scale. Non-finite values, such as the -inf of masked attention
/// logits, are left out of the scale and drawn as "-∞", "+∞" or "?" (NaN).
public struct Heatmap: CustomStringConvertible {
    /// The drawing style of the cells.
    public enum Style: Equatable {
        /// Background colours from a 256-colour terminal, with numbers on them when `showsValues`.
        case color
        /// Plain-text shades " ░▒▓█".
        case shades
        /// Plain-text numbers with `digits` decimals.
        case numbers
    }

    /// A column of numbers printed right of the matrix and not shaded, such as each row's sum.
    public struct ExtraColumn {
        /// The column header.
        public var header: String
        /// One value per row.
        public var values: [Double]
        /// Decimals printed.
        public var digits: Int

        /// Creates an extra column; `values` needs one entry per heatmap row.
        public init<T: BinaryFloatingPoint>(header: String, values: [T], digits: Int = 2) {
            self.header = header
            self.values = values.map(Double.init)
            self.digits = digits
        }
    }

    /// The matrix, one array per row.
    public let values: [[Double]]
    /// One label per row, drawn left of the rows.
    public let rowLabels: [String]
    /// One label per column, drawn above the columns and cut to `maxColumnLabelWidth` columns.
    public let columnLabels: [String]

    /// A line printed above the matrix.
    public var title: String?
    /// Whether colour cells show their numbers; plain text then uses `.numbers` instead of `.shades`.
    public var showsValues = false
    /// Decimals of the printed numbers.
    public var digits = 2
    /// The mapping from values to colours and shades.
    public var scale = ColorScale.automatic
    /// A column of numbers printed right of the matrix.
    public var extraColumn: ExtraColumn?
    /// The widest a column label may be before it is cut with "…".
    public var maxColumnLabelWidth = 8
    /// The widest a row label may be before it is cut with "…".
    public var maxRowLabelWidth = 16

    /// Creates a heatmap of a matrix given as rows. Labels containing control characters, such as
    /// a newline token, have them replaced by escapes like `\n`; pass `Format.visible(token)` to
    /// make spaces visible too.
    public init<T: BinaryFloatingPoint>(_ rows: [[T]], rowLabels: [String], columnLabels: [String]) {
        precondition(rows.count == rowLabels.count, "Heatmap has \(rows.count) rows but \(rowLabels.count) row labels")
        for (index, row) in rows.enumerated() {
            precondition(row.count == columnLabels.count, "Heatmap row \(index) has \(row.count) values but there are \(columnLabels.count) column labels")
        }
        self.values = rows.map { $0.map(Double.init) }
        self.rowLabels = rowLabels.map(Self.escapeControlCharacters)
        self.columnLabels = columnLabels.map(Self.escapeControlCharacters)
    }

    /// Creates a heatmap of a row-major matrix of shape `[rows, columns]` stored flat, as in a `Tensor`.
    public init<T: BinaryFloatingPoint>(values: [T], rows: Int, columns: Int, rowLabels: [String], columnLabels: [String]) {
        precondition(values.count == rows * columns, "Heatmap needs rows * columns = \(rows * columns) values, got \(values.count)")
        let matrix = (0..<rows).map { row in Array(values[(row * columns)..<((row + 1) * columns)]) }
        self.init(matrix, rowLabels: rowLabels, columnLabels: columnLabels)
    }

    /// The style used when `render()` gets none: colour when standard output is a terminal and
    /// `NO_COLOR` is unset, otherwise numbers when `showsValues` is set, otherwise shades.
    public var automaticStyle: Style {
        if Terminal.standardOutputSupportsColor { return .color }
        return showsValues ? .numbers : .shades
    }

    /// Returns the heatmap as lines of text joined by "\n", ending with the scale line.
    public func render(style: Style? = nil) -> String {
        let style = style ?? automaticStyle
        let (scale, low, high) = scale.resolved(for: values.flatMap { $0 })
        let showsNumbers = style == .numbers || (style == .color && showsValues)

        // Every cell has the same width: two columns, widened for numbers and column labels.
        let labels = columnLabels.map { Terminal.truncate($0, toWidth: maxColumnLabelWidth) }
        var cellWidth = max(2, labels.map(Terminal.displayWidth).max() ?? 0)
        if showsNumbers {
            cellWidth = max(cellWidth, values.flatMap { $0 }.map { Format.fixed($0, digits: digits).count }.max() ?? 0)
        }
        let rowNames = rowLabels.map { Terminal.truncate($0, toWidth: maxRowLabelWidth) }
        let rowLabelWidth = rowNames.map(Terminal.displayWidth).max() ?? 0

        var extraTexts: [String] = []
        var extraWidth = 0
        if let extraColumn {
            precondition(extraColumn.values.count == values.count, "Heatmap extra column has \(extraColumn.values.count) values but the heatmap has \(values.count) rows")
            extraTexts = extraColumn.values.map { Format.fixed($0, digits: extraColumn.digits) }
            extraWidth = max(Terminal.displayWidth(of: extraColumn.header), extraTexts.map(\.count).max() ?? 0)
        }

        var lines: [String] = []
        if let title { lines.append(title) }

        var header = String(repeating: " ", count: rowLabelWidth)
        for label in labels {
            header += " " + Terminal.pad(label, toWidth: cellWidth, alignRight: true)
        }
        if let extraColumn {
            header += " │ " + Terminal.pad(extraColumn.header, toWidth: extraWidth, alignRight: true)
        }
        lines.append(Self.trimTrailingSpaces(header))

        for (rowIndex, row) in values.enumerated() {
            var line = Terminal.pad(rowNames[rowIndex], toWidth: rowLabelWidth, alignRight: false)
            for value in row {
                line += " " + cell(value, style: style, scale: scale, low: low, high: high, width: cellWidth)
            }
            if extraColumn != nil {
                line += " │ " + Terminal.pad(extraTexts[rowIndex], toWidth: extraWidth, alignRight: true)
            }
            lines.append(Self.trimTrailingSpaces(line))
        }

        lines.append(legend(style: style, scale: scale, low: low, high: high))
        return lines.joined(separator: "\n")
    }

    /// The heatmap in `automaticStyle`, so `print(heatmap)` works.
    public var description: String { render() }

    // MARK: Cells and legend

    private static let shades: [Character] = [" ", "░", "▒", "▓", "█"]

    private func cell(_ value: Double, style: Style, scale: ColorScale, low: Double, high: Double, width: Int) -> String {
        if style == .numbers {
            return Terminal.pad(Format.fixed(value, digits: digits), toWidth: width, alignRight: true)
        }
        guard value.isFinite else {
            let mark = value.isNaN ? "?" : (value < 0 ? "-∞" : "+∞")
            return Terminal.pad(showsValues && style == .color ? Format.fixed(value, digits: digits) : mark, toWidth: width, alignRight: true)
        }

        let fraction = ColorScale.fraction(of: value, low: low, high: high)
        if style == .shades {
            return String(repeating: Self.shades[Self.shadeIndex(fraction)], count: width)
        }

        let background = scale.color(at: fraction)
        let text = showsValues ? Format.fixed(value, digits: digits) : ""
        let foreground = background.luminance > 0.5 ? 16 : 231
        return "\u{1B}[48;5;\(background.xterm256Index);38;5;\(foreground)m"
            + Terminal.pad(text, toWidth: width, alignRight: true) + "\u{1B}[0m"
    }

    /// Returns which of the five shades draws `fraction` (0...1): five equal parts, top one included.
    static func shadeIndex(_ fraction: Double) -> Int {
        min(Int(fraction * 5), 4)
    }

    private func legend(style: Style, scale: ColorScale, low: Double, high: Double) -> String {
        let number = { (value: Double) in Format.significant(value, digits: 3) }
        var text: String
        switch style {
        case .numbers:
            let finite = values.flatMap { $0 }.filter(\.isFinite)
            if let smallest = finite.min(), let largest = finite.max() {
                text = "values from " + number(smallest) + " to " + number(largest)
            } else {
                text = "no finite values"
            }
        case .shades:
            let parts = (0..<5).map { index in
                "\"\(Self.shades[index])\" from " + number(low + (high - low) * Double(index) / 5)
            }
            text = "shades: " + parts.joined(separator: ", ") + " to " + number(high)
        case .color:
            let swatches = (0..<10).map { step in
                let color = scale.color(at: Double(step) / 9)
                return "\u{1B}[48;5;\(color.xterm256Index)m  "
            }.joined() + "\u{1B}[0m"
            text = "scale: " + number(low) + " " + swatches + " " + number(high)
            if scale == .diverging { text += " (white is 0)" }
        }

        if style != .numbers {
            let all = values.flatMap { $0 }
            var marks: [String] = []
            if all.contains(-.infinity) { marks.append("-∞ is -inf") }
            if all.contains(.infinity) { marks.append("+∞ is +inf") }
            if all.contains(where: \.isNaN) { marks.append("? is NaN") }
            if !marks.isEmpty { text += "; " + marks.joined(separator: ", ") }
        }
        return text
    }

    private static func escapeControlCharacters(_ label: String) -> String {
        var result = ""
        for character in label {
            if character.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                result += Format.visible(String(character))
            } else {
                result.append(character)
            }
        }
        return result
    }

    private static func trimTrailingSpaces(_ line: String) -> String {
        var line = line
        while line.last == " " { line.removeLast() }
        return line
    }
}
