import Foundation

/// A console table with a header, aligned columns and "│" separators.
///
///     var table = Table(columns: ["step", "train loss", "lr"])
///     table.addRow(["0", Format.fixed(4.1744, digits: 4), Format.significant(0.001)])
///     table.addRow(["100", Format.fixed(2.3101, digits: 4), Format.significant(0.001)])
///     print(table.render())
///
/// prints
///
///     step │ train loss │    lr
///     ─────┼────────────┼──────
///        0 │     4.1744 │ 0.001
///      100 │     2.3101 │ 0.001
///
/// Widths are measured in terminal columns, so accented letters and emoji line up.
public struct Table: CustomStringConvertible {
    /// The alignment of a column's cells.
    public enum Alignment: Equatable {
        /// Right-aligned when every non-empty cell of the column looks like a number, else left.
        case automatic
        /// Text starts at the left edge of the column.
        case left
        /// Text ends at the right edge of the column.
        case right
    }

    /// A column's header and alignment. A string literal makes an automatically aligned column.
    public struct Column: ExpressibleByStringLiteral, Equatable {
        /// The header text.
        public let header: String
        /// The alignment of the header and the cells.
        public let alignment: Alignment

        /// Creates a column with a header and an alignment.
        public init(_ header: String, alignment: Alignment = .automatic) {
            self.header = header
            self.alignment = alignment
        }

        /// Creates an automatically aligned column from a header literal.
        public init(stringLiteral header: String) {
            self.init(header)
        }
    }

    /// The columns in order.
    public let columns: [Column]

    /// The rows added so far; `nil` marks a separator line.
    private var rows: [[String]?] = []

    /// Creates an empty table with the given columns.
    public init(columns: [Column]) {
        precondition(!columns.isEmpty, "a Table needs at least one column")
        self.columns = columns
    }

    /// Adds a row; it must have one cell per column.
    public mutating func addRow(_ cells: [String]) {
        precondition(cells.count == columns.count, "Table row has \(cells.count) cells but the table has \(columns.count) columns")
        rows.append(cells)
    }

    /// Adds a horizontal line between the rows added before and after it.
    public mutating func addSeparator() {
        rows.append(nil)
    }

    /// Returns the table as lines of text joined by "\n", without a final newline.
    public func render() -> String {
        let cellRows = rows.compactMap { $0 }
        var widths = columns.map { Terminal.displayWidth(of: $0.header) }
        for row in cellRows {
            for (index, cell) in row.enumerated() {
                widths[index] = max(widths[index], Terminal.displayWidth(of: cell))
            }
        }
        let alignRight = columns.indices.map { index in
            switch columns[index].alignment {
            case .left: return false
            case .right: return true
            case .automatic:
                let cells = cellRows.map { $0[index] }.filter { !$0.isEmpty }
                return !cells.isEmpty && cells.allSatisfy(Self.looksNumeric)
            }
        }

        func line(_ cells: [String]) -> String {
            let padded = cells.indices.map { Terminal.pad(cells[$0], toWidth: widths[$0], alignRight: alignRight[$0]) }
            return Self.trimTrailingSpaces(padded.joined(separator: " │ "))
        }
        let rule = widths.map { String(repeating: "─", count: $0) }.joined(separator: "─┼─")

        var lines = [line(columns.map(\.header)), rule]
        for row in rows {
            lines.append(row.map(line) ?? rule)
        }
        return lines.joined(separator: "\n")
    }

    /// The rendered table, so `print(table)` works.
    public var description: String { render() }

    /// Returns whether a cell reads as a number, allowing a sign, "," groups, an exponent and
    /// one unit suffix out of "%", "k", "M", "G", "T", "x" and " s".
    static func looksNumeric(_ cell: String) -> Bool {
        var text = cell.replacingOccurrences(of: ",", with: "")
        for suffix in ["%", "k", "M", "G", "T", "x", " s"] where text.hasSuffix(suffix) {
            text.removeLast(suffix.count)
            break
        }
        guard let first = text.first, first.isNumber || first == "-" || first == "+" || first == "." else {
            return ["nan", "inf", "-inf"].contains(text)
        }
        return Double(text) != nil
    }

    private static func trimTrailingSpaces(_ line: String) -> String {
        var line = line
        while line.last == " " { line.removeLast() }
        return line
    }
}
