import EmbeddingsStep
import MLPStep
import Tensor

/// Step 06's model: embeddings, multi-head causal self-attention, then step 04's hidden layers and a
/// linear head. Compared with step 05, the one head of width C becomes `numHeads` heads of width C / numHeads.
public final class MultiHeadLanguageModel: LanguageModel {
    /// Token and position vectors, `[B, T]` ids to `[B, T, C]`.
    public let embedding: TokenAndPositionEmbedding
    /// `numHeads` heads and a projection, `[B, T, C]` to `[B, T, C]`.
    public let attention: MultiHeadAttention
    /// `depth` hidden layers of width `hiddenSize`, each followed by GELU.
    public let hidden: MLP
    /// The output layer, `[B, T, hiddenSize]` to logits `[B, T, vocabSize]`.
    public let head: Linear
    public let blockSize: Int

    /// Creates the model.
    /// - Throws: `AttentionConfigurationError` unless `numHeads` ≥ 1 divides `embedDim`.
    public init(
        vocabSize: Int, blockSize: Int, embedDim: Int, numHeads: Int, hiddenSize: Int, depth: Int,
        generator: inout SeededGenerator
    ) throws {
        try AttentionConfigurationError.check(embedDim: embedDim, numHeads: numHeads)
        self.blockSize = blockSize
        embedding = TokenAndPositionEmbedding(vocabSize: vocabSize, blockSize: blockSize, embedDim: embedDim, generator: &generator)
        attention = try MultiHeadAttention(embedDim: embedDim, numHeads: numHeads, generator: &generator)
        hidden = MLP(sizes: [embedDim] + Array(repeating: hiddenSize, count: depth), activateLast: true, generator: &generator)
        head = Linear(inputSize: hiddenSize, outputSize: vocabSize, generator: &generator)
    }

    /// Returns the logits and the attention matrices `[B, numHeads, T, T]`.
    public func forward(_ ids: [Int], shape: [Int]) -> (logits: Tensor, attention: Tensor) {
        let (mixed, attention) = attention(embedding(ids, shape: shape))
        return (head(hidden(mixed)), attention)
    }

    public func logits(_ ids: [Int], shape: [Int]) -> Tensor {
        forward(ids, shape: shape).logits
    }
}
