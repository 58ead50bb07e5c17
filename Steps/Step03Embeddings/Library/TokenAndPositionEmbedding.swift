import Tensor

/// The input layer of every model from here on: a token embedding table and a learned position
/// embedding table. A token at position t becomes tokenTable[id] + positionTable[t].
public final class TokenAndPositionEmbedding: Module {
    /// One learned vector per token id, `[vocabSize, embedDim]`.
    public let tokenEmbedding: Embedding
    /// One learned vector per position, `[blockSize, embedDim]`, or `nil` when positions are left out.
    public let positionEmbedding: Embedding?

    /// Creates both tables with normal(0, 0.02) values; `usePositions: false` leaves out the position table.
    public init(vocabSize: Int, blockSize: Int, embedDim: Int, usePositions: Bool = true, generator: inout SeededGenerator) {
        tokenEmbedding = Embedding(count: vocabSize, dimension: embedDim, generator: &generator)
        positionEmbedding = usePositions ? Embedding(count: blockSize, dimension: embedDim, generator: &generator) : nil
    }

    /// The number of positions the position table covers.
    public var blockSize: Int? { positionEmbedding?.weight.shape[0] }

    /// Maps ids `[B, T]` (flattened, with `shape` `[B, T]`) to vectors `[B, T, C]`.
    public func callAsFunction(_ ids: [Int], shape: [Int]) -> Tensor {
        let tokens = tokenEmbedding(ids, shape: shape)
        guard let positionEmbedding else { return tokens }
        let time = shape[shape.count - 1]
        precondition(time <= positionEmbedding.weight.shape[0], "TokenAndPositionEmbedding: \(time) positions, but the table covers \(positionEmbedding.weight.shape[0])")
        // [T, C] broadcasts over the batch.
        return tokens + positionEmbedding(Array(0..<time), shape: [time])
    }
}
