import Foundation

/// A line plot written as SVG: several named series, axes with ticks and labels, a legend, an
/// optional log-scale y-axis and an optional second y-axis on the right.
///
///     var plot = LinePlot(title: "Training", xLabel: "step", yLabel: "loss")
///     plot.logScaleY = true
///     plot.addSeries("train loss", x: steps, y: trainLosses)
///     plot.addSeries("validation loss", x: evalSteps, y: validationLosses)
///     plot.rightYLabel = "learning rate"
///     plot.addSeries("learning rate", x: steps, y: rates, axis: .right)
///     try plot.write(toPath: "loss.svg")
///
/// Points with a non-finite coordinate, or a y that is not positive on a log scale, are skipped,
/// and the line breaks there. Series on the right axis are dashed.
public struct LinePlot {
    /// The y-axis a series is measured on.
    public enum Axis: Equatable {
        /// The main y-axis, on the left, logarithmic when `logScaleY` is set.
        case left
        /// The second y-axis, on the right, always linear, such as for a learning rate.
        case right
    }

    /// One named line.
    public struct Series {
        /// The name shown in the legend.
        public let name: String
        /// The x coordinates.
        public let x: [Double]
        /// The y coordinates, one per x.
        public let y: [Double]
        /// The axis the y values are measured on.
        public let axis: Axis
    }

    /// The title above the plot.
    public var title: String
    /// The label under the x-axis.
    public var xLabel: String
    /// The label of the left y-axis.
    public var yLabel: String
    /// The label of the right y-axis, shown when a series uses it.
    public var rightYLabel = ""
    /// Whether the left y-axis is logarithmic; the right axis is always linear.
    public var logScaleY = false
    /// The image width in pixels.
    public var width = 720.0
    /// The image height in pixels.
    public var height = 420.0
    /// The series in the order they were added, which is also the legend order.
    public private(set) var series: [Series] = []

    /// Line colours, used in turn; distinct for up to eight series.
    static let palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563", "#ca8a04"]

    /// Creates an empty plot.
    public init(title: String, xLabel: String, yLabel: String) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    /// Adds a series; `x` and `y` need the same count.
    public mutating func addSeries<X: BinaryFloatingPoint, Y: BinaryFloatingPoint>(
        _ name: String, x: [X], y: [Y], axis: Axis = .left
    ) {
        precondition(x.count == y.count, "series \"\(name)\" has \(x.count) x values but \(y.count) y values")
        series.append(Series(name: name, x: x.map(Double.init), y: y.map(Double.init), axis: axis))
    }

    /// Adds a series with integer x coordinates, such as step numbers.
    public mutating func addSeries<X: BinaryInteger, Y: BinaryFloatingPoint>(
        _ name: String, x: [X], y: [Y], axis: Axis = .left
    ) {
        addSeries(name, x: x.map(Double.init), y: y, axis: axis)
    }

    /// Adds a series whose x coordinates are 0, 1, 2, ….
    public mutating func addSeries<Y: BinaryFloatingPoint>(_ name: String, y: [Y], axis: Axis = .left) {
        addSeries(name, x: y.indices.map(Double.init), y: y, axis: axis)
    }

    /// Writes the plot to `path` atomically.
    /// - Throws: `StepError` as `writeAtomically(_:toPath:)` describes.
    public func write(toPath path: String) throws {
        try writeAtomically(svg(), toPath: path)
    }

    /// Returns the plot as an SVG document.
    public func svg() -> String {
        let hasRightAxis = series.contains { $0.axis == .right }
        let left = 72.0
        let right = hasRightAxis ? 72.0 : 24.0
        let top = 40.0
        let bottom = 52.0
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        precondition(plotWidth > 50 && plotHeight > 50, "LinePlot of \(width)x\(height) pixels leaves no room for the plot area")

        let xRange = bounds({ $0.x }, axis: nil)
        let xAxis = SVG.linearTicks(low: xRange.low, high: xRange.high)
        let leftAxis = yAxisTicks(axis: .left, logScale: logScaleY)
        let rightAxis = yAxisTicks(axis: .right, logScale: false)

        func xPosition(_ x: Double) -> Double {
            left + (x - xAxis.low) / (xAxis.high - xAxis.low) * plotWidth
        }
        func yPosition(_ y: Double, axis: Axis) -> Double {
            let ticks = axis == .left ? leftAxis : rightAxis
            let useLog = axis == .left && logScaleY
            let fraction = useLog
                ? (log10(y) - log10(ticks.low)) / (log10(ticks.high) - log10(ticks.low))
                : (y - ticks.low) / (ticks.high - ticks.low)
            return top + plotHeight * (1 - fraction)
        }

        var body: [String] = []
        body.append(SVG.text(title, x: width / 2, y: 24, anchor: "middle", attributes: "font-size=\"15\" font-weight=\"bold\""))

        // Grid lines and tick labels.
        let xStep = xAxis.ticks.count > 1 ? xAxis.ticks[1] - xAxis.ticks[0] : 1
        for tick in xAxis.ticks {
            let x = xPosition(tick)
            body.append("<line x1=\"\(SVG.number(x))\" y1=\"\(SVG.number(top))\" x2=\"\(SVG.number(x))\" y2=\"\(SVG.number(top + plotHeight))\" stroke=\"#e5e7eb\"/>")
            body.append(SVG.text(SVG.tickLabel(tick, step: xStep), x: x, y: top + plotHeight + 16, anchor: "middle"))
        }
        let leftStep = leftAxis.ticks.count > 1 ? leftAxis.ticks[1] - leftAxis.ticks[0] : 1
        for tick in leftAxis.ticks {
            let y = yPosition(tick, axis: .left)
            body.append("<line x1=\"\(SVG.number(left))\" y1=\"\(SVG.number(y))\" x2=\"\(SVG.number(left + plotWidth))\" y2=\"\(SVG.number(y))\" stroke=\"#e5e7eb\"/>")
            let label = logScaleY ? Format.significant(tick, digits: 3) : SVG.tickLabel(tick, step: leftStep)
            body.append(SVG.text(label, x: left - 6, y: y + 4, anchor: "end"))
        }
        if hasRightAxis {
            let rightStep = rightAxis.ticks.count > 1 ? rightAxis.ticks[1] - rightAxis.ticks[0] : 1
            for tick in rightAxis.ticks {
                let y = yPosition(tick, axis: .right)
                body.append("<line x1=\"\(SVG.number(left + plotWidth))\" y1=\"\(SVG.number(y))\" x2=\"\(SVG.number(left + plotWidth + 4))\" y2=\"\(SVG.number(y))\" stroke=\"#374151\"/>")
                body.append(SVG.text(SVG.tickLabel(tick, step: rightStep), x: left + plotWidth + 6, y: y + 4))
            }
        }

        // Frame and axis labels.
        body.append("<rect x=\"\(SVG.number(left))\" y=\"\(SVG.number(top))\" width=\"\(SVG.number(plotWidth))\" height=\"\(SVG.number(plotHeight))\" fill=\"none\" stroke=\"#374151\"/>")
        body.append(SVG.text(xLabel, x: left + plotWidth / 2, y: height - 12, anchor: "middle"))
        let leftLabel = logScaleY ? yLabel + " (log scale)" : yLabel
        body.append(SVG.text(leftLabel, x: 16, y: top + plotHeight / 2, anchor: "middle", rotation: -90))
        if hasRightAxis {
            body.append(SVG.text(rightYLabel, x: width - 14, y: top + plotHeight / 2, anchor: "middle", rotation: 90))
        }

        // Series: each contiguous run of drawable points is one path, and a lone point is a dot.
        for (index, line) in series.enumerated() {
            let color = Self.palette[index % Self.palette.count]
            let dash = line.axis == .right ? " stroke-dasharray=\"6 4\"" : ""
            body.append("<g class=\"series\" data-name=\"\(SVG.escape(line.name))\">")
            body.append("<title>\(SVG.escape(line.name))</title>")
            for run in drawableRuns(of: line) {
                let points = run.map { (xPosition($0.x), yPosition($0.y, axis: line.axis)) }
                if points.count == 1 {
                    body.append("<circle cx=\"\(SVG.number(points[0].0))\" cy=\"\(SVG.number(points[0].1))\" r=\"2.5\" fill=\"\(color)\"/>")
                    continue
                }
                let path = points.enumerated().map { offset, point in
                    (offset == 0 ? "M" : "L") + SVG.number(point.0) + " " + SVG.number(point.1)
                }.joined(separator: " ")
                body.append("<path d=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"\(dash)/>")
            }
            body.append("</g>")
        }

        body += legend(left: left, top: top, plotWidth: plotWidth)
        return SVG.document(width: width, height: height, body: body)
    }

    // MARK: Layout helpers

    private func legend(left: Double, top: Double, plotWidth: Double) -> [String] {
        guard !series.isEmpty else { return [] }
        let names = series.map { $0.axis == .right ? $0.name + " (right axis)" : $0.name }
        let boxWidth = (names.map(SVG.textWidth).max() ?? 0) + 44
        let boxHeight = Double(names.count) * 18 + 8
        let boxX = left + plotWidth - boxWidth - 8
        let boxY = top + 8

        var elements = ["<g class=\"legend\">"]
        elements.append("<rect x=\"\(SVG.number(boxX))\" y=\"\(SVG.number(boxY))\" width=\"\(SVG.number(boxWidth))\" height=\"\(SVG.number(boxHeight))\" fill=\"#ffffff\" fill-opacity=\"0.9\" stroke=\"#d1d5db\"/>")
        for (index, name) in names.enumerated() {
            let y = boxY + 16 + Double(index) * 18
            let color = Self.palette[index % Self.palette.count]
            let dash = series[index].axis == .right ? " stroke-dasharray=\"6 4\"" : ""
            elements.append("<line x1=\"\(SVG.number(boxX + 8))\" y1=\"\(SVG.number(y - 4))\" x2=\"\(SVG.number(boxX + 32))\" y2=\"\(SVG.number(y - 4))\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>")
            elements.append(SVG.text(name, x: boxX + 38, y: y))
        }
        elements.append("</g>")
        return elements
    }

    /// Returns whether a point can be drawn on its series' axis.
    private func isDrawable(x: Double, y: Double, axis: Axis) -> Bool {
        guard x.isFinite && y.isFinite else { return false }
        return !(axis == .left && logScaleY && y <= 0)
    }

    /// Returns the runs of consecutive drawable points of a series.
    private func drawableRuns(of line: Series) -> [[(x: Double, y: Double)]] {
        var runs: [[(x: Double, y: Double)]] = []
        var current: [(x: Double, y: Double)] = []
        for (x, y) in zip(line.x, line.y) {
            if isDrawable(x: x, y: y, axis: line.axis) {
                current.append((x, y))
            } else if !current.isEmpty {
                runs.append(current)
                current = []
            }
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }

    /// Returns the smallest and largest drawable coordinate of the series on `axis` (all series
    /// when `axis` is nil), or `0...1` when there is none.
    private func bounds(_ coordinate: ((x: Double, y: Double)) -> Double, axis: Axis?) -> (low: Double, high: Double) {
        var values: [Double] = []
        for line in series where axis == nil || line.axis == axis {
            for run in drawableRuns(of: line) {
                values += run.map(coordinate)
            }
        }
        guard let low = values.min(), let high = values.max() else { return (0, 1) }
        return (low, high)
    }

    private func yAxisTicks(axis: Axis, logScale: Bool) -> (low: Double, high: Double, ticks: [Double]) {
        let range = bounds({ $0.y }, axis: axis)
        if logScale {
            let hasData = series.contains { $0.axis == axis && !drawableRuns(of: $0).isEmpty }
            return hasData ? SVG.logTicks(low: range.low, high: range.high) : SVG.logTicks(low: 1, high: 10)
        }
        return SVG.linearTicks(low: range.low, high: range.high)
    }
}
