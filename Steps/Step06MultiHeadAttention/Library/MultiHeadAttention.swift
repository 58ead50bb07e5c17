import Tensor

/// Causal self-attention with several heads computed side by side.
///
/// The query, key and value layers each map C to C; their outputs are split into `numHeads` slices of
/// `headSize = C / numHeads`, one per head: `[B, T, C]` → `[B, T, numHeads, headSize]` →
/// `[B, numHeads, T, headSize]`. Every head attends on its own slice, the heads' outputs are put back
/// side by side into `[B, T, C]`, and a projection mixes them.
///
/// The weights are four C×C matrices whatever the head count, so splitting into heads changes what
/// the layer can compute, not its parameter count.
public final class MultiHeadAttention: Module {
    /// Maps `[B, T, C]` to the queries of all heads, `[B, T, C]`. Rows h·headSize ..< (h+1)·headSize
    /// of its weight belong to head h.
    public let query: Linear
    /// Maps `[B, T, C]` to the keys of all heads, split like `query`.
    public let key: Linear
    /// Maps `[B, T, C]` to the values of all heads, split like `query`.
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

    /// The tensors of one forward pass, in the order they are computed.
    public struct Stages {
        /// The input, `[B, T, C]`.
        public let input: Tensor
        /// Each head's queries, `[B, numHeads, T, headSize]`.
        public let queries: Tensor
        /// Each head's keys, `[B, numHeads, T, headSize]`.
        public let keys: Tensor
        /// Each head's values, `[B, numHeads, T, headSize]`.
        public let values: Tensor
        /// Each head's attention matrix, `[B, numHeads, T, T]`, whose rows each sum to 1.
        public let attention: Tensor
        /// Each head's weighted average of its values, `[B, numHeads, T, headSize]`.
        public let heads: Tensor
        /// The heads side by side again, `[B, T, C]`: channels h·headSize ..< (h+1)·headSize come from head h.
        public let concatenated: Tensor
        /// The projection of the concatenation, `[B, T, C]`: the layer's output.
        public let output: Tensor
    }

    /// Runs the layer on `x` `[B, T, C]` and returns every intermediate tensor.
    public func stages(_ x: Tensor) -> Stages {
        precondition(x.rank == 3, "MultiHeadAttention: needs an input [B, T, C], got shape \(x.shape)")
        let (batch, time, channels) = (x.shape[0], x.shape[1], x.shape[2])
        precondition(
            channels == numHeads * headSize,
            "MultiHeadAttention: input has \(channels) channels, but \(numHeads) heads of \(headSize) need \(numHeads * headSize)")

        // [B, T, C] → [B, T, numHeads, headSize] → [B, numHeads, T, headSize]: head h gets channel slice h.
        func splitHeads(_ t: Tensor) -> Tensor {
            t.reshaped([batch, time, numHeads, headSize]).permuted([0, 2, 1, 3])
        }
        let q = splitHeads(query(x)), k = splitHeads(key(x)), v = splitHeads(value(x))

        // The matmuls treat [B, numHeads] as batch axes, so each head's scores use only its own slice.
        let scores = Tensor.matmul(q, k, transposeB: true)  // [B, numHeads, T, T]
        let attention = scores.causalSoftmax(scale: 1 / Float(headSize).squareRoot())
        let heads = Tensor.matmul(attention, v)  // [B, numHeads, T, headSize]

        let concatenated = heads.permuted([0, 2, 1, 3]).reshaped([batch, time, channels])
        return Stages(
            input: x, queries: q, keys: k, values: v, attention: attention, heads: heads,
            concatenated: concatenated, output: projection(concatenated))
    }

    /// Returns the output `[B, T, C]` and every head's attention matrix `[B, numHeads, T, T]`.
    public func callAsFunction(_ x: Tensor) -> (output: Tensor, attention: Tensor) {
        let stages = stages(x)
        return (stages.output, stages.attention)
    }
}

/// An embedding dimension and head count that cannot be split into equal heads.
public struct AttentionConfigurationError: Error, CustomStringConvertible {
    /// The embedding dimension requested.
    public let embedDim: Int
    /// The head count requested.
    public let numHeads: Int
    /// The flag the head count came from, named in the message.
    public var flag: String

    /// Creates the error for a head count that came from the command-line flag `flag`.
    public init(embedDim: Int, numHeads: Int, flag: String = "--heads") {
        self.embedDim = embedDim
        self.numHeads = numHeads
        self.flag = flag
    }

    /// Throws unless `numHeads` is at least 1 and divides `embedDim`. The message names `flag` as the
    /// source of the head count.
    public static func check(embedDim: Int, numHeads: Int, flag: String = "--heads") throws {
        guard numHeads >= 1, embedDim % numHeads == 0 else {
            throw AttentionConfigurationError(embedDim: embedDim, numHeads: numHeads, flag: flag)
        }
    }

    /// The head counts that divide `embedDim`, smallest first.
    public var validHeadCounts: [Int] {
        (1...max(embedDim, 1)).filter { embedDim % $0 == 0 }
    }

    /// The message: the two numbers, the rule they break, and the head counts that work.
    public var description: String {
        let choices = "Head counts that work with --embed-dim \(embedDim): "
            + validHeadCounts.map(String.init).joined(separator: ", ")
        guard numHeads >= 1 else {
            return "invalid \(flag) \(numHeads): a model needs at least 1 head. \(choices)."
        }
        return "invalid \(flag) \(numHeads): it does not divide --embed-dim \(embedDim), and every head gets"
            + " embedDim / numHeads channels, so the division must be exact. \(choices)."
            + " Pass one of them, or an --embed-dim that is a multiple of \(numHeads)."
    }
}
