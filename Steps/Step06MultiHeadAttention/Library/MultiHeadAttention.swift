import Tensor

/// Causal self-attention with several heads computed side by side.
///
/// The query, key and value layers each map C to C; their outputs are split into `numHeads` slices of
/// `headSize = C / numHeads`, one per head: `[B, T, C]` → `[B, T, numHeads, headSize]` →
/// `[B, numHeads, T, headSize]`. Every head attends on its own slice, the heads' outputs are put back
/// side by side into `[B, T, C]`, and a projection mixes them.
public final class MultiHeadAttention: Module {
    /// Maps `[B, T, C]` to the queries of all heads, `[B, T, C]`.
    public let query: Linear
    /// Maps `[B, T, C]` to the keys of all heads.
    public let key: Linear
    /// Maps `[B, T, C]` to the values of all heads.
    public let value: Linear
    /// Mixes the concatenated heads, `[B, T, C]` to `[B, T, C]`.
    public let projection: Linear
    /// The number of heads.
    public let numHeads: Int
    /// The width of each head, `embedDim / numHeads`.
    public let headSize: Int

    /// Creates the layers.
    /// - Throws: `AttentionConfigurationError` unless `numHeads` ≥ 1 divides `embedDim`.
    public init(embedDim: Int, numHeads: Int, bias: Bool = false, generator: inout SeededGenerator) throws {
        try AttentionConfigurationError.check(embedDim: embedDim, numHeads: numHeads)
        self.numHeads = numHeads
        headSize = embedDim / numHeads
        query = Linear(inputSize: embedDim, outputSize: embedDim, bias: bias, generator: &generator)
        key = Linear(inputSize: embedDim, outputSize: embedDim, bias: bias, generator: &generator)
        value = Linear(inputSize: embedDim, outputSize: embedDim, bias: bias, generator: &generator)
        projection = Linear(inputSize: embedDim, outputSize: embedDim, bias: bias, generator: &generator)
    }

    /// Returns the output `[B, T, C]` and every head's attention matrix `[B, numHeads, T, T]`.
    public func callAsFunction(_ x: Tensor) -> (output: Tensor, attention: Tensor) {
        let (batch, time, channels) = (x.shape[0], x.shape[1], x.shape[2])

        func splitHeads(_ t: Tensor) -> Tensor {
            t.reshaped([batch, time, numHeads, headSize]).permuted([0, 2, 1, 3])
        }
        let q = splitHeads(query(x)), k = splitHeads(key(x)), v = splitHeads(value(x))

        let scores = Tensor.matmul(q, k, transposeB: true)  // [B, numHeads, T, T]
        let attention = scores.causalSoftmax(scale: 1 / Float(headSize).squareRoot())
        let heads = Tensor.matmul(attention, v)  // [B, numHeads, T, headSize]

        let joined = heads.permuted([0, 2, 1, 3]).reshaped([batch, time, channels])
        return (projection(joined), attention)
    }
}

/// An embedding dimension and head count that cannot be split into equal heads.
public struct AttentionConfigurationError: Error, CustomStringConvertible {
    /// The embedding dimension requested.
    public let embedDim: Int
    /// The head count requested.
    public let numHeads: Int

    /// Throws unless `numHeads` is at least 1 and divides `embedDim`.
    public static func check(embedDim: Int, numHeads: Int) throws {
        guard numHeads >= 1, embedDim % numHeads == 0 else {
            throw AttentionConfigurationError(embedDim: embedDim, numHeads: numHeads)
        }
    }

    /// The head counts that divide `embedDim`.
    public var validHeadCounts: [Int] {
        (1...max(embedDim, 1)).filter { embedDim % $0 == 0 }
    }

    public var description: String {
        let rule = numHeads < 1
            ? "--heads \(numHeads) is invalid: a model needs at least 1 head"
            : "--heads \(numHeads) does not divide --embed-dim \(embedDim): each head gets embedDim / numHeads channels, so the division must be exact"
        let choices = validHeadCounts.map(String.init).joined(separator: ", ")
        return "\(rule). Head counts that work with --embed-dim \(embedDim): \(choices)"
    }
}
