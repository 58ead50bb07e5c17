import Tensor

/// A batch of training examples made by shifting: `targets[b][t]` is the token that follows `inputs[b][t]`.
///
/// Both are stored flat in row-major order, `[B, T]`, ready for `Tensor.embedding` and `Tensor.crossEntropy`.
public struct Batch: Equatable {
    /// Token ids the model reads, `[B, T]` flattened.
    public let inputs: [Int]
    /// The next token after each input, `[B, T]` flattened.
    public let targets: [Int]
    /// B, the number of sequences.
    public let batchSize: Int
    /// T, the length of each sequence.
    public let blockSize: Int

    /// Creates a batch from flat `[B, T]` inputs and targets.
    public init(inputs: [Int], targets: [Int], batchSize: Int, blockSize: Int) {
        precondition(inputs.count == batchSize * blockSize && targets.count == inputs.count,
                     "Batch: shape [\(batchSize), \(blockSize)] needs \(batchSize * blockSize) inputs and targets, got \(inputs.count) and \(targets.count)")
        self.inputs = inputs
        self.targets = targets
        self.batchSize = batchSize
        self.blockSize = blockSize
    }

    /// The shape of `inputs` and `targets`, `[B, T]`.
    public var shape: [Int] { [batchSize, blockSize] }

    /// Returns sequence `b` of the inputs.
    public func inputRow(_ b: Int) -> ArraySlice<Int> { inputs[(b * blockSize)..<((b + 1) * blockSize)] }

    /// Returns sequence `b` of the targets.
    public func targetRow(_ b: Int) -> ArraySlice<Int> { targets[(b * blockSize)..<((b + 1) * blockSize)] }

    /// Returns the `blockSize` next-token examples that sequence `b` holds: at position t the
    /// context is inputs[0...t] of that sequence and the target is targets[t].
    ///
    /// A model that sees positions 0…t only (as a causal model does) is trained on all of them at
    /// once, so one sequence of T inputs is T examples, with contexts of length 1 to T.
    public func examples(row b: Int) -> [NextTokenExample] {
        precondition(b >= 0 && b < batchSize, "Batch.examples: row \(b) is outside 0..<\(batchSize)")
        let inputs = Array(inputRow(b))
        let targets = Array(targetRow(b))
        var examples: [NextTokenExample] = []
        for t in 0..<blockSize {
            examples.append(NextTokenExample(context: Array(inputs[0...t]), target: targets[t]))
        }
        return examples
    }
}

/// One training example for next-token prediction: the tokens seen so far and the token that follows.
public struct NextTokenExample: Equatable {
    /// The preceding token ids, oldest first.
    public let context: [Int]
    /// The id of the token that follows `context` in the text.
    public let target: Int

    /// Creates an example from a context and its next token.
    public init(context: [Int], target: Int) {
        self.context = context
        self.target = target
    }
}

/// Token ids split into a training part and a validation part, from which random batches are drawn.
public struct TokenDataset {
    /// The first `(1 − valFraction)` of the ids.
    public let train: [Int]
    /// The rest of the ids, for measuring loss on text the model did not train on.
    public let validation: [Int]

    /// Splits `ids` after the first ⌊(1 − valFraction) · count⌋ ids.
    ///
    /// The product is rounded down after adding 1e-6, because 1 − 0.3 is slightly below 0.7 in binary
    /// and 90 tokens would otherwise keep 62 for training instead of 63.
    /// - Throws: `DatasetError.invalidFraction` unless 0 ≤ valFraction < 1.
    public init(ids: [Int], valFraction: Double) throws {
        guard valFraction >= 0 && valFraction < 1 else { throw DatasetError.invalidFraction(valFraction) }
        let exactCut = Double(ids.count) * (1 - valFraction)
        let cut = min(ids.count, Int((exactCut + 1e-6).rounded(.down)))
        train = Array(ids[..<cut])
        validation = Array(ids[cut...])
    }

    /// Returns the number of distinct windows of `blockSize + 1` tokens in a split of `count` tokens:
    /// each start position 0 … count − blockSize − 1 gives one (inputs, targets) pair of sequences.
    public static func windowCount(tokenCount count: Int, blockSize: Int) -> Int {
        max(0, count - blockSize)
    }

    /// Returns the number of examples all windows hold together, `blockSize` per window.
    ///
    /// The same target appears in up to `blockSize` windows, each time after a context of another
    /// length, so this counts more examples than there are targets.
    public static func windowExampleCount(tokenCount count: Int, blockSize: Int) -> Int {
        windowCount(tokenCount: count, blockSize: blockSize) * blockSize
    }

    /// Returns the number of (context, next token) pairs a split of `count` tokens contains: every token but
    /// the first is the target of the tokens before it (its context is cut to the last `blockSize`).
    public static func contextTargetPairCount(tokenCount count: Int) -> Int {
        max(0, count - 1)
    }

    /// Checks that a split contains at least one window of `blockSize + 1` tokens.
    /// - Throws: `DatasetError.invalidBlockSize` when blockSize < 1, and `DatasetError.splitTooShort`
    ///   when the split has fewer than blockSize + 1 tokens.
    public static func checkSplit(_ ids: [Int], blockSize: Int, splitName: String) throws {
        guard blockSize >= 1 else { throw DatasetError.invalidBlockSize(blockSize) }
        guard windowCount(tokenCount: ids.count, blockSize: blockSize) > 0 else {
            throw DatasetError.splitTooShort(split: splitName, tokenCount: ids.count, blockSize: blockSize)
        }
    }

    /// Returns `count` window start positions drawn uniformly from 0 ..< windowCount, one draw of
    /// `generator.nextInt(below:)` each.
    /// - Throws: `DatasetError.invalidBatchSize` when count < 1, and the errors of `checkSplit`.
    public static func randomStarts(
        count: Int, tokenCount: Int, blockSize: Int, generator: inout SeededGenerator, splitName: String = "training"
    ) throws -> [Int] {
        guard count >= 1 else { throw DatasetError.invalidBatchSize(count) }
        guard blockSize >= 1 else { throw DatasetError.invalidBlockSize(blockSize) }
        let windows = windowCount(tokenCount: tokenCount, blockSize: blockSize)
        guard windows > 0 else {
            throw DatasetError.splitTooShort(split: splitName, tokenCount: tokenCount, blockSize: blockSize)
        }
        var starts: [Int] = []
        for _ in 0..<count { starts.append(generator.nextInt(below: windows)) }
        return starts
    }

    /// Returns `batchSize` windows of `blockSize` inputs and their shifted targets, at start positions
    /// drawn uniformly from `generator` as `randomStarts` does.
    /// - Throws: `DatasetError.invalidBatchSize` or `.invalidBlockSize` for a size below 1, and
    ///   `DatasetError.splitTooShort` when the split has fewer than blockSize + 1 tokens.
    public static func randomBatch(
        from ids: [Int], batchSize: Int, blockSize: Int, generator: inout SeededGenerator, splitName: String = "training"
    ) throws -> Batch {
        let starts = try randomStarts(
            count: batchSize, tokenCount: ids.count, blockSize: blockSize, generator: &generator, splitName: splitName)
        return batch(from: ids, starts: starts, blockSize: blockSize)
    }

    /// Returns the windows at the given start positions: row b has inputs ids[s ..< s + T] and
    /// targets ids[s + 1 ... s + T] for s = starts[b], so the targets are the inputs moved one token on.
    public static func batch(from ids: [Int], starts: [Int], blockSize: Int) -> Batch {
        precondition(blockSize >= 1, "batch: block size must be at least 1, got \(blockSize)")
        var inputs: [Int] = []
        var targets: [Int] = []
        inputs.reserveCapacity(starts.count * blockSize)
        targets.reserveCapacity(starts.count * blockSize)
        for start in starts {
            precondition(start >= 0 && start + blockSize < ids.count, "batch: window at \(start) of length \(blockSize + 1) does not fit in \(ids.count) tokens")
            inputs.append(contentsOf: ids[start..<(start + blockSize)])
            targets.append(contentsOf: ids[(start + 1)...(start + blockSize)])
        }
        return Batch(inputs: inputs, targets: targets, batchSize: starts.count, blockSize: blockSize)
    }
}

/// A dataset setting that cannot work.
public enum DatasetError: Error, Equatable, CustomStringConvertible {
    /// A split with fewer tokens than one window of block size + 1 needs.
    case splitTooShort(split: String, tokenCount: Int, blockSize: Int)
    /// A validation fraction outside 0 ≤ fraction < 1.
    case invalidFraction(Double)
    /// A block size below 1.
    case invalidBlockSize(Int)
    /// A batch size below 1.
    case invalidBatchSize(Int)

    /// The message for the user: the value, the rule and the fix.
    public var description: String {
        switch self {
        case let .splitTooShort(split, count, blockSize):
            let tokens = count == 1 ? "1 token" : "\(count) tokens"
            return "the \(split) split has \(tokens), but one window of inputs and targets needs block size + 1 = \(blockSize + 1) tokens."
                + " Use a longer text, a smaller --block-size, or a different --val-fraction."
        case let .invalidFraction(value):
            return "--val-fraction \(value) is invalid: it must be at least 0 and below 1 (for example 0.1)."
        case let .invalidBlockSize(value):
            return "--block-size \(value) is invalid: a window needs at least 1 input token. Pass --block-size 1 or more, such as 8."
        case let .invalidBatchSize(value):
            return "--batch-size \(value) is invalid: a batch needs at least 1 sequence. Pass --batch-size 1 or more, such as 4."
        }
    }
}
