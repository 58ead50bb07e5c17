import Foundation
import StepKit
import Tensor

/// The vocabulary of a bigram model: the distinct Unicode scalars of its training text, sorted by
/// code point, so the same text always gives the same ids.
///
/// Id i is the i-th scalar in that order. There is no unknown token, because the model is trained
/// and queried on one text; Step 01 adds one.
public struct BigramVocabulary: Equatable {
    /// The known scalars; the scalar at index i has id i.
    public let scalars: [Unicode.Scalar]
    private let idsByScalar: [Unicode.Scalar: Int]

    /// Builds the vocabulary of `text`.
    /// - Throws: `BigramError.textTooShort` when the text has fewer than 2 scalars, because then it
    ///   contains no (current, next) pair to learn from.
    public init(text: String) throws {
        let count = text.unicodeScalars.count
        guard count >= 2 else { throw BigramError.textTooShort(scalarCount: count) }
        scalars = Set(text.unicodeScalars).sorted { $0.value < $1.value }
        var ids: [Unicode.Scalar: Int] = [:]
        for (id, scalar) in scalars.enumerated() { ids[scalar] = id }
        idsByScalar = ids
    }

    /// The number of ids, V.
    public var size: Int { scalars.count }

    /// Returns the id of `scalar`, or nil when the training text does not contain it.
    public func id(of scalar: Unicode.Scalar) -> Int? {
        idsByScalar[scalar]
    }

    /// Returns the id of each scalar of `text`.
    /// - Throws: `BigramError.unknownCharacter` for the first scalar the training text does not contain.
    public func ids(for text: String) throws -> [Int] {
        try text.unicodeScalars.map { scalar in
            guard let id = idsByScalar[scalar] else {
                throw BigramError.unknownCharacter(scalar, vocabulary: scalars)
            }
            return id
        }
    }

    /// Returns the text of `ids`; every id must be in 0..<size.
    public func text(for ids: [Int]) -> String {
        var view = String.UnicodeScalarView()
        for id in ids {
            precondition(id >= 0 && id < size, "BigramVocabulary.text: id \(id) is outside 0..<\(size)")
            view.append(scalars[id])
        }
        return String(view)
    }

    public static func == (a: BigramVocabulary, b: BigramVocabulary) -> Bool {
        a.scalars == b.scalars
    }
}

/// A bigram language model: a `[V, V]` table of logits whose row i scores every possible next
/// character after character i.
///
/// The model reads exactly one character to predict the next, so it has no memory: whatever came
/// before the current character cannot change the prediction. Training lowers the cross-entropy
/// of every (current, next) pair of a text, and the best any table can do is the count-based model
/// (each row's counts divided by the row total), which `BigramCounts` computes directly.
public final class BigramModel: Module {
    /// The characters the rows and columns stand for.
    public let vocabulary: BigramVocabulary

    /// The logits `[V, V]`: row = current character, column = next character.
    public let table: Tensor

    /// Creates an untrained model whose logits are all 0, so every row starts as the uniform
    /// distribution. No random start is needed: the loss is convex in the logits, so gradient
    /// descent reaches the same minimum from any start.
    public init(vocabulary: BigramVocabulary) {
        self.vocabulary = vocabulary
        table = Tensor.zeros([vocabulary.size, vocabulary.size], requiresGrad: true)
    }

    /// Returns the logits for each current character, `[N, V]`.
    ///
    /// Row n is a copy of table row `currentIDs[n]` and depends on nothing else: this lookup is
    /// the whole forward pass.
    public func logits(for currentIDs: [Int]) -> Tensor {
        Tensor.embedding(table, ids: currentIDs, idsShape: [currentIDs.count])
    }

    /// Returns the mean cross-entropy of predicting each target from the input before it.
    /// - Parameters:
    ///   - inputs: the current character of each pair, `[N]`.
    ///   - targets: the character that follows each input, `[N]`.
    public func loss(inputs: [Int], targets: [Int]) -> Tensor {
        precondition(inputs.count == targets.count, "BigramModel.loss: \(inputs.count) inputs but \(targets.count) targets")
        return Tensor.crossEntropy(logits: logits(for: inputs), targets: targets)
    }

    /// Returns P(next | current) for every next character: the softmax of row `current`.
    ///
    /// The signature is the point of the model: one id in, one distribution out.
    public func probabilities(after current: Int) -> [Float] {
        precondition(current >= 0 && current < vocabulary.size, "BigramModel.probabilities: id \(current) is outside 0..<\(vocabulary.size)")
        let size = vocabulary.size
        let row = Array(table.data[(current * size)..<((current + 1) * size)])
        let maximum = row.max() ?? 0
        let exponentials = row.map { Foundation.exp($0 - maximum) }
        let total = exponentials.reduce(0, +)
        return exponentials.map { $0 / total }
    }

    /// Trains on every (current, next) pair of `ids` at once (full-batch gradient descent) and
    /// returns the loss before each step.
    ///
    /// The optimizer is AdamW without weight decay: decay would pull the logits towards 0 and keep
    /// the model from reaching the count-based minimum that the tests compare against.
    public func train(on ids: [Int], steps: Int, learningRate: Float) -> [Float] {
        var unused = SeededGenerator(seed: 0)
        return train(on: ids, steps: steps, learningRate: learningRate, batchSize: Int.max, generator: &unused)
    }

    /// Trains on batches of (current, next) pairs and returns the loss of each step's batch.
    ///
    /// When `ids` has at most `batchSize` pairs, every step uses all of them and draws nothing
    /// from `generator`. Otherwise each step draws `batchSize` pair positions uniformly from
    /// `generator`. A long text then costs `batchSize · V` values per step instead of one row of
    /// V logits for every pair of the text.
    public func train(
        on ids: [Int], steps: Int, learningRate: Float, batchSize: Int, generator: inout SeededGenerator
    ) -> [Float] {
        precondition(ids.count >= 2, "BigramModel.train: needs at least 2 ids for one pair, got \(ids.count)")
        precondition(steps >= 0, "BigramModel.train: steps must be non-negative, got \(steps)")
        precondition(batchSize >= 1, "BigramModel.train: batchSize must be at least 1, got \(batchSize)")
        let (allInputs, allTargets) = Self.pairs(of: ids)
        let isFullBatch = allInputs.count <= batchSize
        let optimizer = AdamW(parameters: namedParameters, learningRate: learningRate, weightDecay: 0)

        var losses: [Float] = []
        losses.reserveCapacity(steps)
        var inputs = allInputs
        var targets = allTargets
        for _ in 0..<steps {
            if !isFullBatch {
                inputs.removeAll(keepingCapacity: true)
                targets.removeAll(keepingCapacity: true)
                for _ in 0..<batchSize {
                    let position = generator.nextInt(below: allInputs.count)
                    inputs.append(allInputs[position])
                    targets.append(allTargets[position])
                }
            }

            zeroGrad()
            let loss = loss(inputs: inputs, targets: targets)
            losses.append(loss.item)
            loss.backward()
            optimizer.step()
        }
        return losses
    }

    /// Returns the mean cross-entropy of every (current, next) pair of `ids`, without training.
    ///
    /// The pairs are scored in chunks of at most 16,384, so a long text never needs one row of
    /// logits per pair in memory at once.
    public func meanLoss(on ids: [Int]) -> Float {
        let (inputs, targets) = Self.pairs(of: ids)
        guard !inputs.isEmpty else { return 0 }
        let chunkSize = 16_384
        var total = 0.0
        for start in stride(from: 0, to: inputs.count, by: chunkSize) {
            let end = min(start + chunkSize, inputs.count)
            let chunkLoss = Tensor.withoutGradients {
                loss(inputs: Array(inputs[start..<end]), targets: Array(targets[start..<end])).item
            }
            total += Double(chunkLoss) * Double(end - start)
        }
        return Float(total / Double(inputs.count))
    }

    /// Returns the `length` ids that follow `start`, each the most likely next id after the one
    /// before it (ties go to the smaller id).
    public func generate(after start: Int, length: Int) -> [Int] {
        generate(after: start, length: length) { probabilities in
            var best = 0
            for id in probabilities.indices where probabilities[id] > probabilities[best] { best = id }
            return best
        }
    }

    /// Returns the `length` ids that follow `start`, each drawn from P(next | previous id).
    public func generate(after start: Int, length: Int, generator: inout SeededGenerator) -> [Int] {
        var draws = generator
        defer { generator = draws }
        return generate(after: start, length: length) { draws.nextIndex(weights: $0) }
    }

    private func generate(after start: Int, length: Int, choose: ([Float]) -> Int) -> [Int] {
        precondition(length >= 0, "BigramModel.generate: length must be non-negative, got \(length)")
        var output: [Int] = []
        var current = start
        for _ in 0..<length {
            current = choose(probabilities(after: current))
            output.append(current)
        }
        return output
    }

    /// Splits `ids` into its (current, next) pairs: inputs `ids[0..<n-1]`, targets `ids[1..<n]`.
    public static func pairs(of ids: [Int]) -> (inputs: [Int], targets: [Int]) {
        guard ids.count >= 2 else { return ([], []) }
        return (Array(ids.dropLast()), Array(ids.dropFirst()))
    }
}

/// A bigram input that cannot be used.
public enum BigramError: Error, Equatable, CustomStringConvertible {
    /// The training text has fewer than 2 scalars.
    case textTooShort(scalarCount: Int)
    /// A character that does not occur in the training text.
    case unknownCharacter(Unicode.Scalar, vocabulary: [Unicode.Scalar])

    public var description: String {
        switch self {
        case let .textTooShort(count):
            return "the training text has \(count) character\(count == 1 ? "" : "s"), but a bigram model needs at least 2"
                + " so that there is one (current, next) pair to learn from. Train on a longer text, such as \"abababababab\"."
        case let .unknownCharacter(scalar, vocabulary):
            let listed = vocabulary.map { Format.visible(String($0)) }.joined(separator: " ")
            return "the character \(quoted(scalar)) does not occur in the training text, so the model has no row for it."
                + " The vocabulary is: \(listed). Use one of these characters."
        }
    }
}

/// Returns a scalar in quotes with its code point, as in `"é" (U+00E9)`, escaping invisible ones.
func quoted(_ scalar: Unicode.Scalar) -> String {
    let code = String(format: "U+%04X", scalar.value)
    switch scalar.properties.generalCategory {
    case .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator, .nonspacingMark:
        return code
    default:
        return "\"\(scalar)\" (\(code))"
    }
}
