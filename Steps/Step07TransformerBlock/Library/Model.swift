import EmbeddingsStep
import MLPStep
import Tensor

/// Step 07's model: embeddings, one transformer block, a final LayerNorm and a linear head.
/// Compared with step 06, attention and the MLP now sit in residual branches behind LayerNorms.
public final class BlockLanguageModel: LanguageModel {
    /// Token and position vectors, `[B, T]` ids to `[B, T, C]`.
    public let embedding: TokenAndPositionEmbedding
    /// One block, `[B, T, C]` to `[B, T, C]`.
    public let block: TransformerBlock
    /// LayerNorm before the head.
    public let finalNorm: LayerNorm
    /// The output layer, `[B, T, C]` to logits `[B, T, vocabSize]`.
    public let head: Linear
    public let blockSize: Int

    /// Creates the model.
    /// - Throws: `AttentionConfigurationError` unless `numHeads` ≥ 1 divides `embedDim`.
    public init(
        vocabSize: Int, blockSize: Int, embedDim: Int, numHeads: Int,
        usesResidual: Bool = true, normPlacement: NormPlacement = .preNorm, generator: inout SeededGenerator
    ) throws {
        self.blockSize = blockSize
        embedding = TokenAndPositionEmbedding(vocabSize: vocabSize, blockSize: blockSize, embedDim: embedDim, generator: &generator)
        block = try TransformerBlock(
            embedDim: embedDim, numHeads: numHeads, usesResidual: usesResidual, normPlacement: normPlacement, generator: &generator)
        finalNorm = LayerNorm(dimension: embedDim)
        head = Linear(inputSize: embedDim, outputSize: vocabSize, generator: &generator)
    }

    public func logits(_ ids: [Int], shape: [Int]) -> Tensor {
        head(finalNorm(block(embedding(ids, shape: shape))))
    }
}
