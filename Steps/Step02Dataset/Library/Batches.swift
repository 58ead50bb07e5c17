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

    /// The shape of `inputs` and `targets`, `[B, T]`.
    public var shape: [Int] { [batchSize, blockSize] }

    /// Returns sequence `b` of the inputs.
    public func inputRow(_ b: Int) -> ArraySlice<Int> { inputs[(b * blockSize)..<((b + 1) * blockSize)] }

    /// Returns sequence `b` of the targets.
    public func targetRow(_ b: Int) -> ArraySlice<Int> { targets[(b * blockSize)..<((b + 1) * blockSize)] }
}

/// Token ids split into a training part and a validation part, from which random batches are drawn.
public struct TokenDataset {
    /// The first `(1 − valFraction)` of the ids.
    public let train: [Int]
    /// The rest of the ids, for measuring loss on text the model did not train on.
    public let validation: [Int]

    /// Splits `ids` at `(1 − valFraction) · count`.
    /// - Throws: `DatasetError.invalidFraction` unless 0 ≤ valFraction < 1.
    public init(ids: [Int], valFraction: Double) throws {
        guard valFraction >= 0 && valFraction < 1 else { throw DatasetError.invalidFraction(valFraction) }
        let cut = Int((Double(ids.count) * (1 - valFraction)).rounded(.down))
        train = Array(ids[..<cut])
        validation = Array(ids[cut...])
    }

    /// The number of distinct windows of `blockSize + 1` tokens in a split of `count` tokens:
    /// each start position 0 … count − blockSize − 1 gives one (inputs, targets) pair of sequences.
    public static func windowCount(tokenCount count: Int, blockSize: Int) -> Int {
        max(0, count - blockSize)
    }

    /// The number of (context, next token) pairs a split of `count` tokens contains: every token but
    /// the first is the target of the tokens before it (its context is cut to the last `blockSize`).
    public static func contextTargetPairCount(tokenCount count: Int) -> Int {
        max(0, count - 1)
    }

    /// Returns `batchSize` windows of `blockSize` inputs and their shifted targets, at start positions
    /// drawn uniformly from `generator`.
    /// - Throws: `DatasetError.splitTooShort` when the split has fewer than blockSize + 1 tokens.
    public static func randomBatch(
        from ids: [Int], batchSize: Int, blockSize: Int, generator: inout SeededGenerator, splitName: String = "training"
    ) throws -> Batch {
        let windows = windowCount(tokenCount: ids.count, blockSize: blockSize)
        guard windows > 0 else {
            throw DatasetError.splitTooShort(split: splitName, tokenCount: ids.count, blockSize: blockSize)
        }
        var starts: [Int] = []
        for _ in 0..<batchSize { starts.append(generator.nextInt(below: windows)) }
        return batch(from: ids, starts: starts, blockSize: blockSize)
    }

    /// Returns the windows at the given start positions.
    public static func batch(from ids: [Int], starts: [Int], blockSize: Int) -> Batch {
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
    case splitTooShort(split: String, tokenCount: Int, blockSize: Int)
    case invalidFraction(Double)

    public var description: String {
        switch self {
        case let .splitTooShort(split, count, blockSize):
            return "the \(split) split has \(count) tokens, but one window needs block size + 1 = \(blockSize + 1); use a longer text, a smaller --block-size, or a different --val-fraction"
        case let .invalidFraction(value):
            return "--val-fraction \(value) is invalid: it must be at least 0 and below 1 (for example 0.1)"
        }
    }
}
