import Foundation
import Tensor

/// The next-token prediction at the last position of a context, computed twice: for the context
/// as given and after the token at one position was replaced.
///
/// For a model that mixes positions, replacing an earlier token can change the last prediction.
/// For step 04's model it cannot: the logits at position t are a function of the token and
/// position at t alone, so `isUnchanged` holds whenever the replaced position is not the last.
public struct ContextProbe {
    /// The context as given.
    public let original: [Int]
    /// The context with one token replaced.
    public let changed: [Int]
    /// The position whose token was replaced.
    public let position: Int
    /// Logits `[vocabSize]` at the last position of `original`.
    public let originalLogits: [Float]
    /// Logits `[vocabSize]` at the last position of `changed`.
    public let changedLogits: [Float]

    /// Runs `model` on `context` and on a copy whose token at `position` is `replacement`.
    public init(model: some LanguageModel, context: [Int], position: Int, replacement: Int) {
        precondition(context.indices.contains(position), "ContextProbe: position \(position) is outside the context of \(context.count) tokens")
        var changed = context
        changed[position] = replacement
        self.original = context
        self.changed = changed
        self.position = position
        originalLogits = model.lastPositionLogits(context)
        changedLogits = model.lastPositionLogits(changed)
    }

    /// Whether the two logit vectors are bit-for-bit equal.
    public var isUnchanged: Bool {
        zip(originalLogits, changedLogits).allSatisfy { $0.bitPattern == $1.bitPattern }
    }

    /// The largest absolute difference between the two logit vectors.
    public var maxAbsoluteDifference: Float {
        zip(originalLogits, changedLogits).map { abs($0 - $1) }.max() ?? 0
    }
}

/// One entry of a model's ranked next-token predictions.
public struct TokenPrediction: Equatable {
    /// The predicted token.
    public let id: Int
    /// Its softmax probability.
    public let probability: Float
}

/// Returns the `count` most likely tokens of softmax(`logits`), most likely first; equal
/// probabilities keep the smaller id first, so the order is deterministic.
public func topPredictions(logits: [Float], count: Int) -> [TokenPrediction] {
    guard let maximum = logits.max() else { return [] }
    // Subtracting the maximum keeps exp finite for any logits.
    let exponentials = logits.map { Foundation.exp($0 - maximum) }
    let total = exponentials.reduce(0, +)
    let ranked = exponentials.indices.sorted { a, b in
        exponentials[a] != exponentials[b] ? exponentials[a] > exponentials[b] : a < b
    }
    return ranked.prefix(count).map { TokenPrediction(id: $0, probability: exponentials[$0] / total) }
}
