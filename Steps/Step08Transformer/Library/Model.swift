import EmbeddingsStep
import MLPStep
import MultiHeadAttentionStep
import Tensor
import TransformerBlockStep

/// Step 08's model, a GPT: token and position embeddings, `numLayers` transformer blocks, a final
/// LayerNorm and a head that shares its weights with the token table (logits = x · Wₜₒₖₑₙᵀ).
/// Compared with step 07, one block becomes a stack of identical blocks.
public final class GPT: LanguageModel {
    /// The sizes the model was built with.
    public let config: GPTConfig
    /// Token and position vectors, `[B, T]` ids to `[B, T, C]`.
    public let embedding: TokenAndPositionEmbedding
    /// The stack of blocks, each `[B, T, C]` to `[B, T, C]`.
    public let blocks: [TransformerBlock]
    /// LayerNorm before the head.
    public let finalNorm: LayerNorm
    /// Whether dropout is active (call `setTraining(_:)` to switch every block).
    public private(set) var isTraining = true
    /// The generator of the embedding dropout.
    public var dropoutGenerator: SeededGenerator

    /// The maximum context length the model accepts, T: the size of the position table.
    public var blockSize: Int { config.blockSize }

    /// The head's weight `[vocabSize, C]`: the token table itself, not a copy, so the head adds no
    /// parameters and every gradient that reaches the head also updates the token vectors.
    public var headWeight: Tensor { embedding.tokenEmbedding.weight }

    /// Creates a model with GPT-2's initialisation: normal(0, 0.02) weights, and the layers that
    /// write into the residual stream (attention projection and the MLP's second layer) scaled by
    /// 1/√(2·numLayers) so the stream's variance does not grow with depth.
    /// - Throws: `AttentionConfigurationError` unless `numHeads` ≥ 1 divides `embedDim`.
    public init(config: GPTConfig, generator: inout SeededGenerator) throws {
        try AttentionConfigurationError.check(embedDim: config.embedDim, numHeads: config.numHeads)
        self.config = config
        embedding = TokenAndPositionEmbedding(
            vocabSize: config.vocabSize, blockSize: config.blockSize, embedDim: config.embedDim, generator: &generator)
        var blocks: [TransformerBlock] = []
        for _ in 0..<config.numLayers {
            blocks.append(try TransformerBlock(
                embedDim: config.embedDim, numHeads: config.numHeads, bias: config.bias, dropout: config.dropout,
                generator: &generator))
        }
        let residualScale = 1 / Float(2 * max(config.numLayers, 1)).squareRoot()
        for block in blocks {
            for layer in [block.attention.projection, block.mlp.layers[block.mlp.layers.count - 1]] {
                for i in 0..<layer.weight.count { layer.weight.data[i] *= residualScale }
            }
        }
        self.blocks = blocks
        finalNorm = LayerNorm(dimension: config.embedDim, bias: config.bias)
        dropoutGenerator = SeededGenerator(seed: generator.next())
    }

    /// Switches dropout on (training) or off (evaluation and generation) in every layer.
    public func setTraining(_ training: Bool) {
        isTraining = training
        for block in blocks { block.isTraining = training }
    }

    /// Returns the logits `[B, T, vocabSize]` and each block's attention matrices `[B, numHeads, T, T]`.
    public func forward(_ ids: [Int], shape: [Int]) -> (logits: Tensor, attention: [Tensor]) {
        var x = embedding(ids, shape: shape)
        if isTraining && config.dropout > 0 {
            x = x.dropout(probability: config.dropout, generator: &dropoutGenerator)
        }
        var attention: [Tensor] = []
        for block in blocks {
            let (output, matrices) = block.forward(x)
            x = output
            attention.append(matrices)
        }
        let logits = Tensor.matmul(finalNorm(x), headWeight, transposeB: true)
        return (logits, attention)
    }

    /// Returns the logits `[B, T, vocabSize]` for ids `[B, T]`.
    public func logits(_ ids: [Int], shape: [Int]) -> Tensor {
        forward(ids, shape: shape).logits
    }
}
