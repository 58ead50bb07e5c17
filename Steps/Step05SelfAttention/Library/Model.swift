import EmbeddingsStep
import MLPStep
import Tensor

/// Step 05's model: embeddings, one causal self-attention head, then step 04's hidden layers and a
/// linear head. The attention head is the only part that mixes positions.
///
/// Shapes: ids `[B, T]` → embeddings `[B, T, C]` → attention output `[B, T, C]` → hidden
/// `[B, T, hiddenSize]` → logits `[B, T, vocabSize]`.
public final class AttentionLanguageModel: LanguageModel {
    /// Token and position vectors, `[B, T]` ids to `[B, T, C]`.
    public let embedding: TokenAndPositionEmbedding
    /// One head of width C, `[B, T, C]` to `[B, T, C]`.
    public let attention: SelfAttentionHead
    /// `depth` hidden layers of width `hiddenSize`, each followed by GELU.
    public let hidden: MLP
    /// The output layer, `[B, T, hiddenSize]` to logits `[B, T, vocabSize]`.
    public let head: Linear
    /// The maximum context length the model accepts, T: the size of the position table.
    public let blockSize: Int

    /// Creates the model; the attention head has head size `embedDim`, and `depth` counts the
    /// hidden layers (at least 1).
    public init(vocabSize: Int, blockSize: Int, embedDim: Int, hiddenSize: Int, depth: Int, generator: inout SeededGenerator) {
        precondition(depth >= 1, "AttentionLanguageModel: depth must be at least 1, got \(depth)")
        self.blockSize = blockSize
        embedding = TokenAndPositionEmbedding(vocabSize: vocabSize, blockSize: blockSize, embedDim: embedDim, generator: &generator)
        attention = SelfAttentionHead(embedDim: embedDim, headSize: embedDim, generator: &generator)
        hidden = MLP(sizes: [embedDim] + Array(repeating: hiddenSize, count: depth), activateLast: true, generator: &generator)
        head = Linear(inputSize: hiddenSize, outputSize: vocabSize, generator: &generator)
    }

    /// Returns the logits `[B, T, vocabSize]` and the attention matrix `[B, T, T]`.
    public func forward(_ ids: [Int], shape: [Int]) -> (logits: Tensor, attention: Tensor) {
        let (mixed, attention) = attention(embedding(ids, shape: shape))
        return (head(hidden(mixed)), attention)
    }

    /// Returns the logits `[B, T, vocabSize]` for ids `[B, T]`.
    public func logits(_ ids: [Int], shape: [Int]) -> Tensor {
        forward(ids, shape: shape).logits
    }

    /// Returns the attention matrix of one sequence of 1 to `blockSize` ids, without recording a graph.
    public func attentionMatrix(for context: [Int]) -> AttentionMatrix {
        precondition(
            !context.isEmpty && context.count <= blockSize,
            "attentionMatrix: the context needs 1 to \(blockSize) ids, got \(context.count)")
        let weights = Tensor.withoutGradients { forward(context, shape: [1, context.count]).attention }
        return AttentionMatrix(size: context.count, values: weights.data)
    }
}
