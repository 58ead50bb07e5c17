import Foundation

/// A seeded pseudo-random generator whose draws are identical on every run and platform.
///
/// The algorithm is xoshiro256** (Blackman and Vigna, 2018), its four words of state filled from
/// the seed by SplitMix64. Uniform floats take the top 24 bits of a draw; normal draws use the
/// Box–Muller transform in `Double`, returning the cosine value and then the sine value of each pair.
/// Everything a `--seed` should control draws from this type, never from the system generator.
public struct SeededGenerator: RandomNumberGenerator {
    private var words: (UInt64, UInt64, UInt64, UInt64)
    private var spareNormal: Float?

    /// Creates a generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) {
        var splitMix = seed
        func nextSplitMix() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        words = (nextSplitMix(), nextSplitMix(), nextSplitMix(), nextSplitMix())
    }

    /// The generator's full state, for saving a run and resuming it with the same draws.
    public var state: [UInt64] {
        [words.0, words.1, words.2, words.3, spareNormal.map { UInt64($0.bitPattern) | (1 << 32) } ?? 0]
    }

    /// Recreates a generator from `state`, continuing exactly where the saved one stopped.
    public init?(state words: [UInt64]) {
        guard words.count == 5, words[0...3].contains(where: { $0 != 0 }) else { return nil }
        self.words = (words[0], words[1], words[2], words[3])
        spareNormal = words[4] == 0 ? nil : Float(bitPattern: UInt32(truncatingIfNeeded: words[4]))
    }

    /// Returns the next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotateLeft(words.1 &* 5, by: 7) &* 9
        let t = words.1 << 17
        words.2 ^= words.0
        words.3 ^= words.1
        words.1 ^= words.2
        words.0 ^= words.3
        words.2 ^= t
        words.3 = rotateLeft(words.3, by: 45)
        return result
    }

    /// Returns a uniform draw in [0, 1) with 24 random bits, the precision of a `Float`.
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// Returns a uniform integer in `0..<upperBound`, without modulo bias (rejection sampling).
    public mutating func nextInt(below upperBound: Int) -> Int {
        precondition(upperBound > 0, "SeededGenerator.nextInt: upper bound must be positive, got \(upperBound)")
        let bound = UInt64(upperBound)
        // Draws below `threshold` would make the low residues more likely, so they are redrawn.
        let threshold = (0 &- bound) % bound
        while true {
            let draw = next()
            if draw >= threshold {
                return Int(draw % bound)
            }
        }
    }

    /// Returns a standard normal draw (mean 0, standard deviation 1).
    public mutating func nextNormal() -> Float {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        // u1 lies in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - Double(next() >> 11) * 0x1p-53
        let u2 = Double(next() >> 11) * 0x1p-53
        let radius = (-2.0 * log(u1)).squareRoot()
        let angle = 2.0 * Double.pi * u2
        spareNormal = Float(radius * sin(angle))
        return Float(radius * cos(angle))
    }

    /// Returns an index drawn with the given non-negative weights (they need not sum to 1).
    public mutating func nextIndex(weights: [Float]) -> Int {
        let total = weights.reduce(0, +)
        precondition(total > 0 && total.isFinite, "SeededGenerator.nextIndex: weights must have a positive finite sum, got \(total)")
        let target = nextUniform() * total
        var running: Float = 0
        for (index, weight) in weights.enumerated() {
            running += weight
            if target < running {
                return index
            }
        }
        // Rounding can leave the target at the very top; return the last index with weight.
        return weights.lastIndex(where: { $0 > 0 }) ?? weights.count - 1
    }
}

@inline(__always)
private func rotateLeft(_ value: UInt64, by amount: UInt64) -> UInt64 {
    (value << amount) | (value >> (64 - amount))
}
