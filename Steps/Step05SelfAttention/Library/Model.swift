import EmbeddingsStep
import MLPStep
import Tensor

/// Step 05's model: embeddings, one causal self-attention head, then step 04's hidden layers and a
/// linear head. The attention head is the only part that mixes positions.
public final class AttentionLanguageModel: LanguageModel {
    /// Token and position vectors, `[B, T]` ids to `[B, T, C]`.
    public let embedding: TokenAndPositionEmbedding
    /// One head of width C, `[B, T, C]` to `[B, T, C]`.
    public let attention: SelfAttentionHead
    /// `depth` hidden layers of width `hiddenSize`, each followed by GELU.
    public let hidden: MLP
    /// The output layer, `[B, T, hiddenSize]` to logits `[B, T, vocabSize]`.
    public let head: Linear
    public let blockSize: Int

    /// Creates the model; the attention head has head size `embedDim`.
    public init(vocabSize: Int, blockSize: Int, embedDim: Int, hiddenSize: Int, depth: Int, generator: inout SeededGenerator) {
        self.blockSize = blockSize
        embedding = TokenAndPositionEmbedding(vocabSize: vocabSize, blockSize: blockSize, embedDim: embedDim, generator: &generator)
        attention = SelfAttentionHead(embedDim: embedDim, headSize: embedDim, generator: &generator)
        hidden = MLP(sizes: [embedDim] + Array(repeating: hiddenSize, count: depth), activateLast: true, generator: &generator)
        head = Linear(inputSize: hiddenSize, outputSize: vocabSize, generator: &generator)
    }

    /// Returns the logits and the attention matrix `[B, T, T]`.
    public func forward(_ ids: [Int], shape: [Int]) -> (logits: Tensor, attention: Tensor) {
        let (mixed, attention) = attention(embedding(ids, shape: shape))
        return (head(hidden(mixed)), attention)
    }

    public func logits(_ ids: [Int], shape: [Int]) -> Tensor {
        forward(ids, shape: shape).logits
    }
}
