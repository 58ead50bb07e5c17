import Foundation
import StepKit
import Tensor
import TokenizerStep

/// The next-token prediction at the last position of a context, computed twice: for the context
/// as given and after the token at one position was replaced.
///
/// For a model that mixes positions, replacing an earlier token can change the last prediction.
/// For step 04's model it cannot: the logits at position t are a function of the token and
/// position at t alone, so `isUnchanged` is true whenever the replaced position is not the last.
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

/// Returns the probe experiment as text: the five most likely next tokens at the last position of
/// `context`, as given, with its first token replaced, and with its last token replaced, followed
/// by whether each replacement changed the logits there.
///
/// A replacement token is the original id's successor among the ids 1..<vocabSize, so it always
/// differs from the original and is never `[UNK]`.
public func contextProbeReport(model: some LanguageModel, tokenizer: CharTokenizer, context: [Int]) -> String {
    precondition(context.count >= 2, "contextProbeReport: the context needs at least 2 tokens, got \(context.count)")
    precondition(tokenizer.vocabSize >= 3, "contextProbeReport: needs a vocabulary of at least 3 ids, got \(tokenizer.vocabSize)")
    let last = context.count - 1
    func replacement(for id: Int) -> Int { id % (tokenizer.vocabSize - 1) + 1 }
    func text(_ ids: [Int]) -> String { ids.map { tokenizer.label(for: $0) }.joined() }
    func change(_ probe: ContextProbe) -> String {
        let position = probe.position
        return "(position \(position): " + tokenizer.label(for: probe.original[position]) + " → "
            + tokenizer.label(for: probe.changed[position]) + ")"
    }

    let firstChanged = ContextProbe(model: model, context: context, position: 0, replacement: replacement(for: context[0]))
    let lastChanged = ContextProbe(model: model, context: context, position: last, replacement: replacement(for: context[last]))

    var lines = ["Which tokens does the prediction at the last position (\(last)) depend on?"]
    lines.append("context          " + text(context))
    lines.append("first changed    " + text(firstChanged.changed) + "   " + change(firstChanged))
    lines.append("last changed     " + text(lastChanged.changed) + "   " + change(lastChanged))
    lines.append("")

    let rankedColumns = [firstChanged.originalLogits, firstChanged.changedLogits, lastChanged.changedLogits].map {
        topPredictions(logits: $0, count: 5)
    }
    var table = Table(columns: [
        "rank", Table.Column("context", alignment: .left), Table.Column("first changed", alignment: .left),
        Table.Column("last changed", alignment: .left),
    ])
    for rank in 0..<min(5, tokenizer.vocabSize) {
        let cells = rankedColumns.map { predictions in
            tokenizer.label(for: predictions[rank].id) + " " + Format.fixed(predictions[rank].probability, digits: 3)
        }
        table.addRow(["\(rank + 1)"] + cells)
    }
    lines.append("The five most likely next tokens at position \(last), with their probabilities:")
    lines.append(table.render())
    lines.append("")

    func verdict(_ probe: ContextProbe) -> String {
        probe.isUnchanged
            ? "bit-identical to the original"
            : "different, by up to " + Format.significant(probe.maxAbsoluteDifference, digits: 3)
    }
    lines.append("logits at position \(last), first token changed: " + verdict(firstChanged))
    lines.append("logits at position \(last), last token changed:  " + verdict(lastChanged))
    return lines.joined(separator: "\n")
}
