import EmbeddingsStep
import MLPStep
import Tensor

/// Step 07's model: embeddings, a transformer block (or `numLayers` of them in a row), a final
/// LayerNorm and a linear head. Compared with step 06, attention and the MLP now sit in residual
/// branches behind LayerNorms, and the MLP works on the attention output of every position.
///
/// Shapes: ids `[B, T]` → embeddings `[B, T, C]` → each block `[B, T, C]` → LayerNorm → logits
/// `[B, T, vocabSize]`.
public final class BlockLanguageModel: LanguageModel {
    /// Token and position vectors, `[B, T]` ids to `[B, T, C]`.
    public let embedding: TokenAndPositionEmbedding
    /// The blocks in order, each `[B, T, C]` to `[B, T, C]`; one unless the model was built deeper.
    public let blocks: [TransformerBlock]
    /// LayerNorm before the head.
    public let finalNorm: LayerNorm
    /// The output layer, `[B, T, C]` to logits `[B, T, vocabSize]`.
    public let head: Linear
    /// The maximum context length the model accepts, T: the size of the position table.
    public let blockSize: Int

    /// Creates the model; every block is wired the same way.
    /// - Parameters:
    ///   - numLayers: the number of blocks, at least 1.
    ///   - usesResidual: whether each sublayer's output is added to its input (x + f(x)) or replaces it.
    ///   - normPlacement: whether LayerNorm comes before each sublayer or after each residual sum.
    /// - Throws: `AttentionConfigurationError` unless `numHeads` ≥ 1 divides `embedDim`.
    public init(
        vocabSize: Int, blockSize: Int, embedDim: Int, numHeads: Int, numLayers: Int = 1,
        usesResidual: Bool = true, normPlacement: NormPlacement = .preNorm, generator: inout SeededGenerator
    ) throws {
        precondition(numLayers >= 1, "BlockLanguageModel: numLayers must be at least 1, got \(numLayers)")
        self.blockSize = blockSize
        embedding = TokenAndPositionEmbedding(vocabSize: vocabSize, blockSize: blockSize, embedDim: embedDim, generator: &generator)
        var blocks: [TransformerBlock] = []
        for _ in 0..<numLayers {
            blocks.append(try TransformerBlock(
                embedDim: embedDim, numHeads: numHeads, usesResidual: usesResidual, normPlacement: normPlacement,
                generator: &generator))
        }
        self.blocks = blocks
        finalNorm = LayerNorm(dimension: embedDim)
        head = Linear(inputSize: embedDim, outputSize: vocabSize, generator: &generator)
    }

    /// Returns the logits `[B, T, vocabSize]` and the output `[B, T, C]` of every block, in order.
    public func forward(_ ids: [Int], shape: [Int]) -> (logits: Tensor, blockOutputs: [Tensor]) {
        var x = embedding(ids, shape: shape)
        var outputs: [Tensor] = []
        for block in blocks {
            x = block(x)
            outputs.append(x)
        }
        return (head(finalNorm(x)), outputs)
    }

    /// Returns the logits `[B, T, vocabSize]` for ids `[B, T]`.
    public func logits(_ ids: [Int], shape: [Int]) -> Tensor {
        forward(ids, shape: shape).logits
    }

    /// Switches every block's dropout on (training) or off (evaluation).
    public func setTraining(_ training: Bool) {
        for block in blocks { block.isTraining = training }
    }
}
