import DatasetStep
import Tensor

/// A bigram-like model on top of the embeddings: each position's input vector (token vector, plus
/// position vector when the embedding has positions) goes through one linear layer to next-token
/// logits, `[B, T, C]` to `[B, T, vocabSize]`.
///
/// No position reads another, so the only thing training can teach a token's vector is which tokens
/// tend to follow it. Tokens followed by similar tokens therefore drift towards similar vectors,
/// whatever their ids.
public final class EmbeddingBigramModel: Module {
    /// The token (and position) vectors, ids `[B, T]` to `[B, T, C]`.
    public let embedding: TokenAndPositionEmbedding
    /// The output layer, `[B, T, C]` to logits `[B, T, vocabSize]`.
    public let head: Linear

    /// Creates a model around an existing embedding, with a new normal(0, 0.02) head.
    public init(embedding: TokenAndPositionEmbedding, generator: inout SeededGenerator) {
        self.embedding = embedding
        head = Linear(inputSize: embedding.embedDim, outputSize: embedding.vocabSize, generator: &generator)
    }

    /// Returns next-token logits `[B, T, vocabSize]` for ids `[B, T]` laid out flat with `shape` `[B, T]`.
    public func logits(_ ids: [Int], shape: [Int]) -> Tensor {
        head(embedding(ids, shape: shape))
    }

    /// Returns the mean cross-entropy of the predictions for a batch's targets.
    public func loss(on batch: Batch) -> Tensor {
        Tensor.crossEntropy(logits: logits(batch.inputs, shape: batch.shape), targets: batch.targets)
    }
}

/// Trains `model` with AdamW (no weight decay) on random batches of `ids` and returns the loss of every step.
///
/// `onStep` is called after each step with the step number, counted from 1, and that step's loss.
/// - Throws: the `DatasetError`s of `TokenDataset.randomBatch`, for example when `ids` is shorter
///   than blockSize + 1.
public func trainEmbeddingBigram(
    _ model: EmbeddingBigramModel, on ids: [Int], steps: Int, batchSize: Int, blockSize: Int,
    learningRate: Float, generator: inout SeededGenerator, onStep: (Int, Float) -> Void = { _, _ in }
) throws -> [Float] {
    precondition(steps >= 0, "trainEmbeddingBigram: steps must be at least 0, got \(steps)")
    let optimizer = AdamW(parameters: model.namedParameters, learningRate: learningRate, weightDecay: 0)
    var losses: [Float] = []
    for step in 0..<steps {
        let batch = try TokenDataset.randomBatch(from: ids, batchSize: batchSize, blockSize: blockSize, generator: &generator)
        model.zeroGrad()
        let loss = model.loss(on: batch)
        loss.backward()
        optimizer.step()
        losses.append(loss.item)
        onStep(step + 1, loss.item)
    }
    return losses
}
