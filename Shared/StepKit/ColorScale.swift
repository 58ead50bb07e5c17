/// A mapping from heatmap values to colours or shades.
public enum ColorScale: Equatable {
    /// Diverging when the finite values include both signs, sequential otherwise.
    case automatic
    /// From the smallest value (dark blue) to the largest (yellow).
    case sequential
    /// Symmetric around zero: negative values blue, zero white, positive values red, with the
    /// ends at minus and plus the largest magnitude.
    case diverging

    /// Returns the concrete scale and its value range `low...high` for the finite values of `values`.
    ///
    /// A sequential scale spans the smallest to the largest value and a diverging scale spans
    /// `-m...m` where `m` is the largest magnitude. An empty or constant input gets a range of
    /// width 1 around its value (around 0 when empty), so every value maps to the middle colour.
    func resolved(for values: [Double]) -> (scale: ColorScale, low: Double, high: Double) {
        let finite = values.filter(\.isFinite)
        let smallest = finite.min() ?? 0
        let largest = finite.max() ?? 0

        var scale = self
        if scale == .automatic {
            scale = smallest < 0 && largest > 0 ? .diverging : .sequential
        }

        if scale == .diverging {
            let magnitude = max(abs(smallest), abs(largest))
            return magnitude > 0 ? (.diverging, -magnitude, magnitude) : (.diverging, -0.5, 0.5)
        }
        if largest == smallest {
            return (.sequential, smallest - 0.5, smallest + 0.5)
        }
        return (.sequential, smallest, largest)
    }

    /// Returns the position of `value` in `low...high` as a fraction clamped to `0...1`.
    static func fraction(of value: Double, low: Double, high: Double) -> Double {
        guard high > low else { return 0.5 }
        return min(max((value - low) / (high - low), 0), 1)
    }

    /// Returns the colour at `fraction` (0...1) of a resolved scale, interpolated between stops.
    func color(at fraction: Double) -> RGBColor {
        let stops = self == .diverging ? RGBColor.divergingStops : RGBColor.sequentialStops
        let position = min(max(fraction, 0), 1) * Double(stops.count - 1)
        let index = min(Int(position), stops.count - 2)
        return stops[index].mixed(with: stops[index + 1], amount: position - Double(index))
    }
}

/// An sRGB colour with 8-bit channels.
struct RGBColor: Equatable {
    var red: UInt8
    var green: UInt8
    var blue: UInt8

    /// Dark blue through teal and green to yellow, similar in spirit to matplotlib's viridis.
    static let sequentialStops = [
        RGBColor(red: 68, green: 1, blue: 84),
        RGBColor(red: 59, green: 82, blue: 139),
        RGBColor(red: 33, green: 145, blue: 140),
        RGBColor(red: 94, green: 201, blue: 98),
        RGBColor(red: 253, green: 231, blue: 37),
    ]

    /// Blue, white and red, with white at zero.
    static let divergingStops = [
        RGBColor(red: 33, green: 102, blue: 172),
        RGBColor(red: 146, green: 197, blue: 222),
        RGBColor(red: 247, green: 247, blue: 247),
        RGBColor(red: 244, green: 165, blue: 130),
        RGBColor(red: 178, green: 24, blue: 43),
    ]

    /// The colour as "#rrggbb" for SVG.
    var hex: String {
        "#" + [red, green, blue].map { channel in
            let digits = String(channel, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }

    /// Relative luminance from 0 (black) to 1 (white), used to pick readable text on the colour.
    var luminance: Double {
        (0.2126 * Double(red) + 0.7152 * Double(green) + 0.0722 * Double(blue)) / 255
    }

    /// The nearest of the 240 fixed colours of a 256-colour terminal: the 6×6×6 cube (16...231)
    /// or the 24-step grey ramp (232...255).
    var xterm256Index: Int {
        let cubeLevels = [0, 95, 135, 175, 215, 255]
        func nearestLevel(_ channel: UInt8) -> Int {
            cubeLevels.indices.min { abs(cubeLevels[$0] - Int(channel)) < abs(cubeLevels[$1] - Int(channel)) }!
        }
        let r = nearestLevel(red), g = nearestLevel(green), b = nearestLevel(blue)
        let cubeIndex = 16 + 36 * r + 6 * g + b
        let cubeDistance = squaredDistance(to: (cubeLevels[r], cubeLevels[g], cubeLevels[b]))

        // Grey ramp entries are 8 + 10 * k for k in 0...23.
        let average = (Int(red) + Int(green) + Int(blue)) / 3
        let greyStep = min(max((average - 8 + 5) / 10, 0), 23)
        let grey = 8 + 10 * greyStep
        let greyDistance = squaredDistance(to: (grey, grey, grey))

        return greyDistance < cubeDistance ? 232 + greyStep : cubeIndex
    }

    /// Returns the colour `amount` (0...1) of the way from `self` to `other`.
    func mixed(with other: RGBColor, amount: Double) -> RGBColor {
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 {
            UInt8((Double(a) + (Double(b) - Double(a)) * amount).rounded())
        }
        return RGBColor(red: mix(red, other.red), green: mix(green, other.green), blue: mix(blue, other.blue))
    }

    private func squaredDistance(to other: (Int, Int, Int)) -> Int {
        let dr = Int(red) - other.0, dg = Int(green) - other.1, db = Int(blue) - other.2
        return dr * dr + dg * dg + db * db
    }
}
