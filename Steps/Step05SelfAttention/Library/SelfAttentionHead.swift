import Foundation
import Tensor

/// One head of causal self-attention.
///
/// Each position makes a query, a key and a value. The score of position t for position s is
/// q_t · k_s / √headSize; positions after t are masked out, and a softmax turns each row of scores
/// into weights that sum to 1. The output at t is the weighted average of the values v_0 … v_t.
public final class SelfAttentionHead: Module {
    /// Maps `[B, T, C]` to queries `[B, T, headSize]`.
    public let query: Linear
    /// Maps `[B, T, C]` to keys `[B, T, headSize]`.
    public let key: Linear
    /// Maps `[B, T, C]` to values `[B, T, headSize]`.
    public let value: Linear
    /// The width of queries, keys and values.
    public let headSize: Int
    /// When false the masked, scaled scores are used as weights directly (zeros above the diagonal),
    /// to show what the softmax is for.
    public var appliesSoftmax = true

    /// Creates a head reading vectors of `embedDim` values; its layers have no bias.
    public init(embedDim: Int, headSize: Int, generator: inout SeededGenerator) {
        self.headSize = headSize
        query = Linear(inputSize: embedDim, outputSize: headSize, bias: false, generator: &generator)
        key = Linear(inputSize: embedDim, outputSize: headSize, bias: false, generator: &generator)
        value = Linear(inputSize: embedDim, outputSize: headSize, bias: false, generator: &generator)
    }

    /// Returns the output `[B, T, headSize]` and the attention matrix `[B, T, T]`.
    public func callAsFunction(_ x: Tensor) -> (output: Tensor, attention: Tensor) {
        let q = query(x), k = key(x), v = value(x)
        let scores = Tensor.matmul(q, k, transposeB: true)  // [B, T, T]
        let scale = 1 / Float(headSize).squareRoot()
        let attention = appliesSoftmax
            ? scores.causalSoftmax(scale: scale)
            : (scores * scale).causalMasked(fill: 0)
        return (Tensor.matmul(attention, v), attention)
    }
}
