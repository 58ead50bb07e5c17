import EmbeddingsStep
import Tensor

/// Step 04's model: embeddings, then `depth` hidden layers, then a linear head, applied to each
/// position on its own. Nothing mixes positions, so a prediction sees only its own token and position.
///
/// Shapes: ids `[B, T]` → embeddings `[B, T, embedDim]` → hidden `[B, T, hiddenSize]` → logits
/// `[B, T, vocabSize]`. The first hidden layer has embedDim·hiddenSize + hiddenSize parameters and
/// each further one hiddenSize·hiddenSize + hiddenSize.
public final class MLPLanguageModel: LanguageModel {
    /// Token and position vectors, `[B, T]` ids to `[B, T, C]`.
    public let embedding: TokenAndPositionEmbedding
    /// `depth` hidden layers of width `hiddenSize`, each followed by GELU.
    public let hidden: MLP
    /// The output layer, `[B, T, hiddenSize]` to logits `[B, T, vocabSize]`.
    public let head: Linear
    /// The maximum context length the model accepts, T: the size of the position table.
    public let blockSize: Int
    /// The number of hidden layers.
    public let depth: Int
    /// The width of every hidden layer.
    public let hiddenSize: Int

    /// Creates the model; `depth` counts the hidden layers (at least 1).
    public init(vocabSize: Int, blockSize: Int, embedDim: Int, hiddenSize: Int, depth: Int, generator: inout SeededGenerator) {
        precondition(depth >= 1, "MLPLanguageModel: depth must be at least 1, got \(depth)")
        self.blockSize = blockSize
        self.depth = depth
        self.hiddenSize = hiddenSize
        embedding = TokenAndPositionEmbedding(vocabSize: vocabSize, blockSize: blockSize, embedDim: embedDim, generator: &generator)
        hidden = MLP(sizes: [embedDim] + Array(repeating: hiddenSize, count: depth), activateLast: true, generator: &generator)
        head = Linear(inputSize: hiddenSize, outputSize: vocabSize, generator: &generator)
    }

    /// Returns logits `[B, T, vocabSize]` for ids `[B, T]`; row t depends only on the token and position at t.
    public func logits(_ ids: [Int], shape: [Int]) -> Tensor {
        head(hidden(embedding(ids, shape: shape)))
    }
}
