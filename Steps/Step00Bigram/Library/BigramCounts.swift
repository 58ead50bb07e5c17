import Foundation

/// The count-based bigram model: how often each character follows each other character in a text.
///
/// Dividing each row by its total gives P(next | current) by counting, the maximum-likelihood
/// estimate that a trained `BigramModel` approaches. The mean negative log-likelihood of the text
/// under these probabilities is the conditional entropy H(next | current), the lowest loss any
/// model that sees one character can reach on that text.
public struct BigramCounts: Equatable {
    /// The number of ids, V.
    public let vocabularySize: Int

    /// The counts `[V, V]` in row-major order: entry `current * V + next`.
    public let counts: [Int]

    /// Counts every (current, next) pair of `ids`; each id must be in 0..<vocabularySize.
    public init(ids: [Int], vocabularySize: Int) {
        precondition(vocabularySize > 0, "BigramCounts: vocabularySize must be positive, got \(vocabularySize)")
        var counts = [Int](repeating: 0, count: vocabularySize * vocabularySize)
        for (current, next) in zip(ids, ids.dropFirst()) {
            precondition(current >= 0 && current < vocabularySize && next >= 0 && next < vocabularySize,
                         "BigramCounts: pair (\(current), \(next)) is outside 0..<\(vocabularySize)")
            counts[current * vocabularySize + next] += 1
        }
        self.vocabularySize = vocabularySize
        self.counts = counts
    }

    /// Returns how often `next` follows `current`.
    public func count(of next: Int, after current: Int) -> Int {
        counts[current * vocabularySize + next]
    }

    /// Returns how many pairs start with `current`.
    public func total(after current: Int) -> Int {
        counts[(current * vocabularySize)..<((current + 1) * vocabularySize)].reduce(0, +)
    }

    /// Returns row `current` divided by its total, or nil when `current` is never followed by a
    /// character (it occurs only at the end of the text), so counting gives no estimate for it.
    public func probabilities(after current: Int) -> [Double]? {
        let total = total(after: current)
        guard total > 0 else { return nil }
        return (0..<vocabularySize).map { Double(count(of: $0, after: current)) / Double(total) }
    }

    /// The conditional entropy H(next | current) in nats: the mean of −log P(next | current) over
    /// every pair counted, with P from the counts themselves.
    public var conditionalEntropy: Double {
        var sum = 0.0
        var pairs = 0
        for current in 0..<vocabularySize {
            let total = total(after: current)
            for next in 0..<vocabularySize {
                let count = count(of: next, after: current)
                guard count > 0 else { continue }
                sum -= Double(count) * Foundation.log(Double(count) / Double(total))
                pairs += count
            }
        }
        return pairs == 0 ? 0 : sum / Double(pairs)
    }
}

/// Returns the conditional entropy H(next | previous `contextLength` ids) of `ids` in nats, with
/// probabilities from counting: the mean of −log(count(context, next) / count(context)) over every
/// position that has `contextLength` ids before it.
///
/// With `contextLength` 1 it equals `BigramCounts.conditionalEntropy`. A longer context never
/// gives a higher value on the same positions, and it is lower when the extra ids help predict.
public func conditionalEntropy(of ids: [Int], contextLength: Int) -> Double {
    precondition(contextLength >= 1, "conditionalEntropy: contextLength must be at least 1, got \(contextLength)")
    guard ids.count > contextLength else { return 0 }

    var contextCounts: [[Int]: Int] = [:]
    var contextNextCounts: [[Int]: Int] = [:]
    for end in contextLength..<ids.count {
        let context = Array(ids[(end - contextLength)..<end])
        contextCounts[context, default: 0] += 1
        contextNextCounts[context + [ids[end]], default: 0] += 1
    }

    // Summing over positions in text order, not over the dictionaries, keeps the result
    // independent of dictionary order down to the last bit.
    var sum = 0.0
    for end in contextLength..<ids.count {
        let context = Array(ids[(end - contextLength)..<end])
        let joint = Double(contextNextCounts[context + [ids[end]]]!)
        let marginal = Double(contextCounts[context]!)
        sum -= Foundation.log(joint / marginal)
    }
    return sum / Double(ids.count - contextLength)
}

/// A text in which each character is fixed by the character two places before it, and the
/// character in between reveals nothing about it.
///
/// Even positions cycle a → b → c → d → a, odd positions cycle x → y → z → x, interleaved:
/// "axbyczdxaybz…". Each character is the successor of the one two back, so two characters of
/// memory predict the text perfectly. The cycles have lengths 4 and 3, which share no factor, so
/// over one period of 24 characters every letter of one cycle sits next to every letter of the
/// other equally often. Given only the current character, the next one is therefore any letter of
/// the other cycle, each with equal probability.
public enum TwoBackText {
    /// The cycle of the even positions.
    public static let evenCycle: [Unicode.Scalar] = ["a", "b", "c", "d"]
    /// The cycle of the odd positions.
    public static let oddCycle: [Unicode.Scalar] = ["x", "y", "z"]

    /// Returns the first `length` characters of the text.
    public static func make(length: Int) -> String {
        precondition(length >= 0, "TwoBackText.make: length must be non-negative, got \(length)")
        var view = String.UnicodeScalarView()
        for position in 0..<length {
            let step = position / 2
            view.append(position % 2 == 0 ? evenCycle[step % evenCycle.count] : oddCycle[step % oddCycle.count])
        }
        return String(view)
    }
}
