import Foundation

extension Heatmap {
    /// Returns the heatmap as an SVG document: labelled rows and columns, one square cell per
    /// value coloured by `scale`, the extra column as text, and a colour bar with its range.
    ///
    /// Cells show their numbers when `showsValues` is set. Non-finite cells are white with
    /// "-∞", "+∞" or "?". Column labels wider than a cell are drawn at 45 degrees.
    /// - Parameter cellSize: the side of one cell in pixels.
    public func svg(cellSize: Double = 28) -> String {
        precondition(cellSize >= 4, "Heatmap cellSize must be at least 4 pixels, got \(cellSize)")
        let (scale, low, high) = scale.resolved(for: values.flatMap { $0 })
        let columnCount = Double(columnLabels.count)
        let rowCount = Double(rowLabels.count)

        // Layout, left to right: row labels, grid, extra column, colour bar.
        let labelWidth = columnLabels.map(SVG.textWidth).max() ?? 0
        let rotatesColumnLabels = labelWidth > cellSize - 4
        let titleHeight = title == nil ? 12.0 : 36.0
        let columnLabelHeight = rotatesColumnLabels ? labelWidth * 0.72 + 14 : 20
        let gridLeft = 12 + (rowLabels.map(SVG.textWidth).max() ?? 0) + 8
        let gridTop = titleHeight + columnLabelHeight
        let gridWidth = columnCount * cellSize
        let gridHeight = rowCount * cellSize

        var extraWidth = 0.0
        var extraTexts: [String] = []
        if let extraColumn {
            precondition(extraColumn.values.count == values.count, "Heatmap extra column has \(extraColumn.values.count) values but the heatmap has \(values.count) rows")
            extraTexts = extraColumn.values.map { Format.fixed($0, digits: extraColumn.digits) }
            extraWidth = max(SVG.textWidth(extraColumn.header), extraTexts.map(SVG.textWidth).max() ?? 0) + 16
        }

        let barLeft = gridLeft + gridWidth + extraWidth + 20
        let barHeight = max(gridHeight, 100)
        let barLabels = [high, (low + high) / 2, low].map { Format.significant($0, digits: 3) }
        let width = barLeft + 14 + 6 + (barLabels.map(SVG.textWidth).max() ?? 0) + 12
        let height = gridTop + barHeight + 16

        var body: [String] = []
        if let title {
            body.append(SVG.text(title, x: 12, y: 22, attributes: "font-size=\"15\" font-weight=\"bold\""))
        }

        for (index, label) in columnLabels.enumerated() {
            let x = gridLeft + (Double(index) + 0.5) * cellSize
            if rotatesColumnLabels {
                body.append(SVG.text(label, x: x, y: gridTop - 6, anchor: "start", rotation: -45))
            } else {
                body.append(SVG.text(label, x: x, y: gridTop - 6, anchor: "middle"))
            }
        }
        for (index, label) in rowLabels.enumerated() {
            body.append(SVG.text(label, x: gridLeft - 6, y: gridTop + (Double(index) + 0.5) * cellSize + 4, anchor: "end"))
        }

        body.append("<g class=\"cells\">")
        for (rowIndex, row) in values.enumerated() {
            for (columnIndex, value) in row.enumerated() {
                let x = gridLeft + Double(columnIndex) * cellSize
                let y = gridTop + Double(rowIndex) * cellSize
                let center = (x: x + cellSize / 2, y: y + cellSize / 2 + 4)
                let rect = "<rect x=\"\(SVG.number(x))\" y=\"\(SVG.number(y))\" width=\"\(SVG.number(cellSize))\" height=\"\(SVG.number(cellSize))\""

                guard value.isFinite else {
                    body.append(rect + " fill=\"#ffffff\" stroke=\"#d1d5db\"/>")
                    let mark = value.isNaN ? "?" : (value < 0 ? "-∞" : "+∞")
                    body.append(SVG.text(mark, x: center.x, y: center.y, anchor: "middle", attributes: "fill=\"#6b7280\""))
                    continue
                }
                let color = scale.color(at: ColorScale.fraction(of: value, low: low, high: high))
                body.append(rect + " fill=\"\(color.hex)\"><title>\(SVG.escape(Format.significant(value)))</title></rect>")
                if showsValues {
                    let textColor = color.luminance > 0.5 ? "#000000" : "#ffffff"
                    body.append(SVG.text(Format.fixed(value, digits: digits), x: center.x, y: center.y, anchor: "middle",
                                         attributes: "fill=\"\(textColor)\" font-size=\"\(SVG.number(min(SVG.fontSize, cellSize / 2.6)))\""))
                }
            }
        }
        body.append("</g>")

        if let extraColumn {
            let x = gridLeft + gridWidth + extraWidth - 4
            body.append(SVG.text(extraColumn.header, x: x, y: gridTop - 6, anchor: "end"))
            for (index, text) in extraTexts.enumerated() {
                body.append(SVG.text(text, x: x, y: gridTop + (Double(index) + 0.5) * cellSize + 4, anchor: "end"))
            }
        }

        // Colour bar: a vertical gradient, high values at the top.
        body.append("<defs><linearGradient id=\"heatmap-scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">")
        for step in 0...10 {
            let fraction = Double(step) / 10
            body.append("<stop offset=\"\(SVG.number(fraction))\" stop-color=\"\(scale.color(at: fraction).hex)\"/>")
        }
        body.append("</linearGradient></defs>")
        body.append("<rect class=\"scale\" x=\"\(SVG.number(barLeft))\" y=\"\(SVG.number(gridTop))\" width=\"14\" height=\"\(SVG.number(barHeight))\" fill=\"url(#heatmap-scale)\" stroke=\"#374151\"/>")
        for (index, label) in barLabels.enumerated() {
            let y = gridTop + barHeight * Double(index) / 2
            body.append(SVG.text(label, x: barLeft + 20, y: y + 4))
        }

        return SVG.document(width: width, height: height, body: body)
    }

    /// Writes the SVG heatmap to `path` atomically.
    /// - Throws: `StepError` as `writeAtomically(_:toPath:)` describes.
    public func writeSVG(toPath path: String, cellSize: Double = 28) throws {
        try writeAtomically(svg(cellSize: cellSize), toPath: path)
    }
}
