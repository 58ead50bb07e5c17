import Foundation

/// Small building blocks for the SVG line plots and heatmaps: escaping, number formatting,
/// text elements and axis ticks.
enum SVG {
    /// The font size of labels in pixels; `textWidth` estimates widths from it.
    static let fontSize = 12.0

    /// Returns a complete SVG document of the given size around `body`, one element a line.
    static func document(width: Double, height: Double, body: [String]) -> String {
        var lines = [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(number(width))\" height=\"\(number(height))\""
                + " viewBox=\"0 0 \(number(width)) \(number(height))\" font-family=\"sans-serif\" font-size=\"\(number(fontSize))\">",
            "<rect x=\"0\" y=\"0\" width=\"\(number(width))\" height=\"\(number(height))\" fill=\"#ffffff\"/>",
        ]
        lines += body
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Returns a `<text>` element; `anchor` is "start", "middle" or "end".
    static func text(
        _ content: String, x: Double, y: Double, anchor: String = "start",
        rotation: Double? = nil, attributes: String = ""
    ) -> String {
        var element = "<text x=\"\(number(x))\" y=\"\(number(y))\" text-anchor=\"\(anchor)\""
        if let rotation {
            element += " transform=\"rotate(\(number(rotation)) \(number(x)) \(number(y)))\""
        }
        if !attributes.isEmpty { element += " " + attributes }
        return element + ">" + escape(content) + "</text>"
    }

    /// Returns `text` safe inside XML text and attribute values: markup characters become
    /// entities, and characters XML 1.0 forbids become U+FFFD.
    static func escape(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default:
                let value = scalar.value
                let allowed = value == 0x9 || value == 0xA || value == 0xD
                    || (0x20...0xD7FF).contains(value) || (0xE000...0xFFFD).contains(value) || value >= 0x10000
                if allowed {
                    result.unicodeScalars.append(scalar)
                } else {
                    result += "\u{FFFD}"
                }
            }
        }
        return result
    }

    /// Formats a coordinate with at most two decimals and no trailing zeros.
    static func number(_ value: Double) -> String {
        var text = Format.fixed(value, digits: 2)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }

    /// Estimates the width in pixels of `text` at `fontSize`, for layout only.
    static func textWidth(_ text: String) -> Double {
        Double(Terminal.displayWidth(of: text)) * fontSize * 0.6
    }

    // MARK: Ticks

    /// Returns an axis range widened to round numbers, with 4 to 10 evenly spaced ticks.
    ///
    /// The tick step is 1, 2 or 5 times a power of ten, chosen so about `target` steps cover
    /// `low...high`. An empty range is widened by 1 on each side, or by 10% of the value.
    static func linearTicks(low: Double, high: Double, target: Int = 5) -> (low: Double, high: Double, ticks: [Double]) {
        var low = low
        var high = high
        if high <= low {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            low -= pad
            high += pad
        }

        let rawStep = (high - low) / Double(target)
        let power = pow(10, floor(log10(rawStep)))
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= rawStep } ?? 10 * power
        let first = (low / step).rounded(.down)
        let last = (high / step).rounded(.up)
        // Ticks are multiples of the step, computed from integers so repeated additions do not drift.
        let ticks = stride(from: first, through: last, by: 1).map { $0 * step }
        return (first * step, last * step, ticks)
    }

    /// Returns a log-10 axis range of whole decades covering `low...high` (both positive) with a
    /// tick per decade, plus ticks at 2 and 5 times each power when the range spans at most two decades.
    static func logTicks(low: Double, high: Double) -> (low: Double, high: Double, ticks: [Double]) {
        precondition(low > 0 && high > 0, "log ticks need positive bounds, got \(low) and \(high)")
        let firstDecade = floor(log10(low))
        var lastDecade = ceil(log10(high))
        if lastDecade <= firstDecade { lastDecade = firstDecade + 1 }

        var ticks: [Double] = []
        for decade in stride(from: firstDecade, through: lastDecade, by: 1) {
            let power = pow(10, decade)
            ticks.append(power)
            if lastDecade - firstDecade <= 2 && decade < lastDecade {
                ticks += [2 * power, 5 * power]
            }
        }
        return (pow(10, firstDecade), pow(10, lastDecade), ticks)
    }

    /// Formats a tick value with the decimals its step needs, as in "0.25" or "1500".
    static func tickLabel(_ value: Double, step: Double) -> String {
        let magnitude = abs(value)
        if magnitude != 0 && (magnitude >= 1e6 || magnitude < 1e-3) {
            return Format.significant(value, digits: 3)
        }
        let decimals = step > 0 ? max(0, Int(-floor(log10(step) + 1e-9))) : 0
        return Format.fixed(value, digits: min(decimals, 6))
    }
}
