extension Tensor {
    /// Returns the rows of `table` `[V, C]` picked by `ids`, shaped `idsShape + [C]` (for example
    /// `[B, T]` ids give `[B, T, C]`). The backward pass adds each row's gradient into the row it
    /// came from, so only rows that were looked up receive a gradient, and a repeated id gets the sum.
    public static func embedding(_ table: Tensor, ids: [Int], idsShape: [Int]) -> Tensor {
        precondition(table.rank == 2, "embedding: table must be [V, C], got \(table.shape)")
        precondition(elementCount(idsShape) == ids.count, "embedding: \(ids.count) ids do not fill shape \(idsShape)")
        let rowCount = table.shape[0], width = table.shape[1]
        // Each position's row is copied in full, so the buffer starts uninitialised.
        let values = uninitializedValues(count: ids.count * width) { output in
            table.data.withUnsafeBufferPointer { rows in
                for (position, id) in ids.enumerated() {
                    precondition(id >= 0 && id < rowCount, "embedding: id \(id) at position \(position) is outside 0..<\(rowCount)")
                    if width > 0 {
                        (output.baseAddress! + position * width).update(from: rows.baseAddress! + id * width, count: width)
                    }
                }
            }
        }
        return result(shape: idsShape + [width], data: values, parents: [table]) { output in
            let g = output.grad!
            table.accumulateGrad { gt in
                g.withUnsafeBufferPointer { gp in
                    for (position, id) in ids.enumerated() {
                        for j in 0..<width { gt[id * width + j] += gp[position * width + j] }
                    }
                }
            }
        }
    }

    /// Returns the tensor with each value zeroed with probability `probability` and the survivors
    /// scaled by 1 / (1 − probability), so the expected value is unchanged (inverted dropout).
    /// With probability 0 it returns `self` and draws nothing.
    public func dropout(probability: Float, generator: inout SeededGenerator) -> Tensor {
        precondition(probability >= 0 && probability < 1, "dropout: probability must be in [0, 1), got \(probability)")
        guard probability > 0 else { return self }
        let keepScale = 1 / (1 - probability)
        var mask = [Float](repeating: 0, count: count)
        for i in 0..<count where generator.nextUniform() >= probability {
            mask[i] = keepScale
        }
        var values = data
        for i in 0..<count { values[i] *= mask[i] }
        let input = self
        return Tensor.result(shape: shape, data: values, parents: [self]) { output in
            let g = output.grad!
            input.accumulateGrad { gx in
                for i in 0..<gx.count { gx[i] += g[i] * mask[i] }
            }
        }
    }
}
