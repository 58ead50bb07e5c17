/// A sequence of numbers drawn as one line of bars "▁▂▃▄▅▆▇█", with its minimum and maximum.
///
///     print(Sparkline([4.2, 3.1, 2.6, 2.4, 2.3]))
///     // █▄▂▁▁  min 2.3  max 4.2
///
/// A sequence longer than `width` is resampled: the values are split into `width` runs of
/// consecutive values, as equal in length as possible, and each run is drawn as its mean. Shorter
/// sequences are drawn one bar per value and not stretched, so each bar stays one data point.
public struct Sparkline: CustomStringConvertible {
    /// The eight bar heights, lowest first.
    public static let levels: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// The bars, at most `width` characters. The lowest drawn value is "▁", the highest "█", and
    /// the rest are linear between them, rounded to the nearest level. Every bar is "▄" when all
    /// drawn values are equal, and a value or run with no finite number is a space.
    public let bars: String

    /// The smallest finite value in the input before resampling, or nil when there is none.
    public let minimum: Double?

    /// The largest finite value in the input before resampling, or nil when there is none.
    public let maximum: Double?

    /// Draws `values` in at most `width` bars.
    public init<T: BinaryFloatingPoint>(_ values: [T], width: Int = 60) {
        precondition(width >= 1, "Sparkline width must be at least 1, got \(width)")
        let numbers = values.map(Double.init)
        let finite = numbers.filter(\.isFinite)
        minimum = finite.min()
        maximum = finite.max()

        let drawn = Self.resample(numbers, width: width)
        let drawnFinite = drawn.filter(\.isFinite)
        let low = drawnFinite.min() ?? 0
        let high = drawnFinite.max() ?? 0

        var bars = ""
        for value in drawn {
            if !value.isFinite {
                bars.append(" ")
            } else if high == low {
                bars.append(Self.levels[3])
            } else {
                let level = Int(((value - low) / (high - low) * 7).rounded())
                bars.append(Self.levels[min(max(level, 0), 7)])
            }
        }
        self.bars = bars
    }

    /// The bars followed by the minimum and maximum, with 4 significant digits.
    public var description: String {
        guard let minimum, let maximum else { return bars }
        return bars + "  min " + Format.significant(minimum) + "  max " + Format.significant(maximum)
    }

    /// Returns `values` shortened to `width` entries, each the mean of a run of consecutive
    /// values, or `values` unchanged when it has at most `width` entries.
    ///
    /// Run `i` covers indices `i * n / width ..< (i + 1) * n / width` in integer division, where
    /// `n` is `values.count`. Non-finite values are left out of the means, and a run with no finite
    /// value gives NaN.
    public static func resample(_ values: [Double], width: Int) -> [Double] {
        precondition(width >= 1, "Sparkline width must be at least 1, got \(width)")
        guard values.count > width else { return values }

        var result: [Double] = []
        result.reserveCapacity(width)
        for run in 0..<width {
            let start = run * values.count / width
            let end = (run + 1) * values.count / width
            let finite = values[start..<end].filter(\.isFinite)
            result.append(finite.isEmpty ? .nan : finite.reduce(0, +) / Double(finite.count))
        }
        return result
    }
}
