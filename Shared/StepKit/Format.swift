import Foundation

/// Number and text formatting shared by the tables, heatmaps, plots and progress bars.
///
/// Every function is deterministic and ignores the user's locale, so printed output is the same
/// on every machine: the decimal separator is always "." and the thousands separator ",".
public enum Format {
    /// Formats `value` with exactly `digits` digits after the decimal point, as in `"2.346"`.
    ///
    /// A result that rounds to zero has no minus sign, and non-finite values become
    /// `"nan"`, `"inf"` or `"-inf"`.
    public static func fixed<T: BinaryFloatingPoint>(_ value: T, digits: Int) -> String {
        precondition(digits >= 0 && digits <= 17, "Format.fixed needs 0...17 digits, got \(digits)")
        let number = Double(value)
        if let special = nonFinite(number) { return special }

        let text = String(format: "%.\(digits)f", number)
        // "-0.000" reads as a negative number to a learner, but it is a rounded zero.
        if text.hasPrefix("-"), text.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) {
            return String(text.dropFirst())
        }
        return text
    }

    /// Formats `value` with `digits` significant digits, switching to exponent form for very
    /// large or small magnitudes, as C's `%g` does: `0.0003`, `2.31`, `1.5e-05`.
    public static func significant<T: BinaryFloatingPoint>(_ value: T, digits: Int = 4) -> String {
        precondition(digits >= 1 && digits <= 17, "Format.significant needs 1...17 digits, got \(digits)")
        let number = Double(value)
        if let special = nonFinite(number) { return special }
        if number == 0 { return "0" }
        return String(format: "%.\(digits)g", number)
    }

    /// Formats a fraction as a percentage: `percent(0.1234)` is `"12.3%"`.
    public static func percent<T: BinaryFloatingPoint>(_ fraction: T, digits: Int = 1) -> String {
        fixed(Double(fraction) * 100, digits: digits) + "%"
    }

    /// Formats an integer with "," between groups of three digits: `1,234,567`.
    public static func grouped<T: BinaryInteger>(_ value: T) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (offset, digit) in digits.enumerated() {
            if offset > 0 && (digits.count - offset) % 3 == 0 {
                result.append(",")
            }
            result.append(digit)
        }
        return value < 0 ? "-" + result : result
    }

    /// Formats a count with a metric suffix and three significant digits: `950`, `12.3k`, `4.56M`, `1.20G`.
    public static func compact<T: BinaryFloatingPoint>(_ value: T) -> String {
        let number = Double(value)
        if let special = nonFinite(number) { return special }

        let magnitude = abs(number)
        let suffixes: [(scale: Double, suffix: String)] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
        for (scale, suffix) in suffixes where magnitude >= scale * 0.9995 {
            return threeSignificant(number / scale) + suffix
        }
        return threeSignificant(number)
    }

    /// Formats a count with a metric suffix, as `compact` does for floating-point values.
    public static func compact<T: BinaryInteger>(_ value: T) -> String {
        if value.magnitude < 1000 { return String(value) }
        return compact(Double(value))
    }

    /// Formats a byte count in binary units: `512 B`, `4.1 KiB`, `12.0 MiB`.
    public static func bytes<T: BinaryInteger>(_ count: T) -> String {
        let number = Double(count)
        let units = ["KiB", "MiB", "GiB", "TiB"]
        if abs(number) < 1024 { return "\(count) B" }

        var scaled = number / 1024
        var unitIndex = 0
        while abs(scaled) >= 1024 && unitIndex < units.count - 1 {
            scaled /= 1024
            unitIndex += 1
        }
        return fixed(scaled, digits: 1) + " " + units[unitIndex]
    }

    /// Formats a duration for people: `0.25 s`, `12.3 s`, `4 min 05 s`, `2 h 03 min`.
    public static func duration(seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        if seconds < 10 { return fixed(seconds, digits: 2) + " s" }
        if seconds < 60 { return fixed(seconds, digits: 1) + " s" }

        let whole = Int(seconds.rounded())
        if whole < 3600 {
            return "\(whole / 60) min " + twoDigits(whole % 60) + " s"
        }
        return "\(whole / 3600) h " + twoDigits(whole / 60 % 60) + " min"
    }

    /// Formats a duration as a clock reading: `0:07`, `12:30`, `1:02:03`.
    public static func clock(seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let whole = Int(seconds.rounded(.down))
        let hours = whole / 3600
        let minutes = whole / 60 % 60
        if hours > 0 {
            return "\(hours):" + twoDigits(minutes) + ":" + twoDigits(whole % 60)
        }
        return "\(minutes):" + twoDigits(whole % 60)
    }

    /// Returns `text` with invisible characters replaced by visible stand-ins, for showing tokens
    /// as labels: a space becomes "␣", a newline "\n", a tab "\t", a carriage return "\r", and
    /// other control characters `\u{XX}` with their hexadecimal code.
    public static func visible(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case " ": result += "␣"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            default:
                if scalar.properties.generalCategory == .control {
                    result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }

    private static func nonFinite(_ value: Double) -> String? {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        return nil
    }

    private static func threeSignificant(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude >= 99.95 { return fixed(value, digits: 0) }
        if magnitude >= 9.995 { return fixed(value, digits: 1) }
        return fixed(value, digits: 2)
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
