import Tensor

/// The input layer of every model from here on: a token embedding table and a learned position
/// embedding table. A token at position t becomes tokenTable[id] + positionTable[t].
///
/// The id only selects a row. Nothing in the lookup depends on how large the id is, so ids 7 and 8
/// are no more alike than ids 7 and 60 until training moves their rows.
public final class TokenAndPositionEmbedding: Module {
    /// One learned vector per token id, `[vocabSize, embedDim]`.
    public let tokenEmbedding: Embedding
    /// One learned vector per position, `[blockSize, embedDim]`, or `nil` when positions are left out.
    public let positionEmbedding: Embedding?

    /// Creates both tables with normal(0, 0.02) values; `usePositions: false` leaves out the position table.
    ///
    /// The token table is drawn first, so the same generator state gives the same token table with
    /// and without positions.
    public init(vocabSize: Int, blockSize: Int, embedDim: Int, usePositions: Bool = true, generator: inout SeededGenerator) {
        tokenEmbedding = Embedding(count: vocabSize, dimension: embedDim, generator: &generator)
        positionEmbedding = usePositions ? Embedding(count: blockSize, dimension: embedDim, generator: &generator) : nil
    }

    /// The number of positions the position table covers, or `nil` without positions.
    public var blockSize: Int? { positionEmbedding?.weight.shape[0] }

    /// The number of token ids the token table covers.
    public var vocabSize: Int { tokenEmbedding.weight.shape[0] }

    /// The length of each vector, C.
    public var embedDim: Int { tokenEmbedding.weight.shape[1] }

    /// Maps ids `[B, T]` (flattened, with `shape` `[B, T]`) to vectors `[B, T, C]`.
    public func callAsFunction(_ ids: [Int], shape: [Int]) -> Tensor {
        let tokens = tokenEmbedding(ids, shape: shape)
        guard let positionEmbedding else { return tokens }
        let time = shape[shape.count - 1]
        precondition(time <= positionEmbedding.weight.shape[0], "TokenAndPositionEmbedding: \(time) positions, but the table covers \(positionEmbedding.weight.shape[0])")
        // [T, C] broadcasts over the batch.
        return tokens + positionEmbedding(Array(0..<time), shape: [time])
    }

    /// Returns row `id` of the token table, the vector of that token before any position is added.
    public func tokenVector(_ id: Int) -> [Float] {
        row(id, of: tokenEmbedding.weight)
    }

    /// Returns row `position` of the position table, or `nil` when positions are left out.
    public func positionVector(_ position: Int) -> [Float]? {
        positionEmbedding.map { row(position, of: $0.weight) }
    }

    private func row(_ index: Int, of table: Tensor) -> [Float] {
        let rows = table.shape[0], width = table.shape[1]
        precondition(index >= 0 && index < rows, "TokenAndPositionEmbedding: row \(index) is outside 0..<\(rows)")
        return Array(table.data[(index * width)..<((index + 1) * width)])
    }
}
