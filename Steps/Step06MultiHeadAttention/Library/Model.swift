import EmbeddingsStep
import MLPStep
import SelfAttentionStep
import Tensor

/// Step 06's model: embeddings, multi-head causal self-attention, then step 04's hidden layers and a
/// linear head. Compared with step 05, the one head of width C becomes `numHeads` heads of width
/// C / numHeads, followed by a C×C projection that mixes them.
///
/// Shapes: ids `[B, T]` → embeddings `[B, T, C]` → attention output `[B, T, C]` → hidden
/// `[B, T, hiddenSize]` → logits `[B, T, vocabSize]`.
public final class MultiHeadLanguageModel: LanguageModel {
    /// Token and position vectors, `[B, T]` ids to `[B, T, C]`.
    public let embedding: TokenAndPositionEmbedding
    /// `numHeads` heads and a projection, `[B, T, C]` to `[B, T, C]`.
    public let attention: MultiHeadAttention
    /// `depth` hidden layers of width `hiddenSize`, each followed by GELU.
    public let hidden: MLP
    /// The output layer, `[B, T, hiddenSize]` to logits `[B, T, vocabSize]`.
    public let head: Linear
    /// The maximum context length the model accepts, T: the size of the position table.
    public let blockSize: Int

    /// Creates the model; `depth` counts the hidden layers (at least 1).
    /// - Throws: `AttentionConfigurationError` unless `numHeads` ≥ 1 divides `embedDim`.
    public init(
        vocabSize: Int, blockSize: Int, embedDim: Int, numHeads: Int, hiddenSize: Int, depth: Int,
        generator: inout SeededGenerator
    ) throws {
        try AttentionConfigurationError.check(embedDim: embedDim, numHeads: numHeads)
        precondition(depth >= 1, "MultiHeadLanguageModel: depth must be at least 1, got \(depth)")
        self.blockSize = blockSize
        embedding = TokenAndPositionEmbedding(vocabSize: vocabSize, blockSize: blockSize, embedDim: embedDim, generator: &generator)
        attention = try MultiHeadAttention(embedDim: embedDim, numHeads: numHeads, generator: &generator)
        hidden = MLP(sizes: [embedDim] + Array(repeating: hiddenSize, count: depth), activateLast: true, generator: &generator)
        head = Linear(inputSize: hiddenSize, outputSize: vocabSize, generator: &generator)
    }

    /// Returns the logits `[B, T, vocabSize]` and the attention matrices `[B, numHeads, T, T]`.
    public func forward(_ ids: [Int], shape: [Int]) -> (logits: Tensor, attention: Tensor) {
        let (mixed, attention) = attention(embedding(ids, shape: shape))
        return (head(hidden(mixed)), attention)
    }

    /// Returns the logits `[B, T, vocabSize]` for ids `[B, T]`.
    public func logits(_ ids: [Int], shape: [Int]) -> Tensor {
        forward(ids, shape: shape).logits
    }

    /// Returns the attention layer's intermediate tensors for ids `[B, T]`, without recording a graph.
    public func attentionStages(_ ids: [Int], shape: [Int]) -> MultiHeadAttention.Stages {
        Tensor.withoutGradients { attention.stages(embedding(ids, shape: shape)) }
    }

    /// Returns one attention matrix per head for one sequence of 1 to `blockSize` ids, without
    /// recording a graph.
    public func attentionMatrices(for context: [Int]) -> [AttentionMatrix] {
        precondition(
            !context.isEmpty && context.count <= blockSize,
            "attentionMatrices: the context needs 1 to \(blockSize) ids, got \(context.count)")
        let weights = Tensor.withoutGradients { forward(context, shape: [1, context.count]).attention }
        let size = context.count
        return (0..<attention.numHeads).map { head in
            AttentionMatrix(size: size, values: Array(weights.data[(head * size * size)..<((head + 1) * size * size)]))
        }
    }
}
