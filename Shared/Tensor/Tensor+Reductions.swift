// Sums and means, over one axis or over everything.

extension Tensor {
    /// Returns the sum of all values as a scalar tensor of shape `[]`.
    public func sum() -> Tensor {
        let input = self
        var total: Double = 0
        for value in data { total += Double(value) }
        return Tensor.result(shape: [], data: [Float(total)], parents: [self]) { output in
            let g = output.grad![0]
            input.accumulateGrad { gx in
                for i in 0..<gx.count { gx[i] += g }
            }
        }
    }

    /// Returns the mean of all values as a scalar tensor of shape `[]`.
    public func mean() -> Tensor {
        precondition(count > 0, "Tensor.mean: the tensor is empty (shape \(shape))")
        return sum() / Float(count)
    }

    /// Returns the sum along `axis` (negative counts from the end). With `keepingDimension` the
    /// axis stays with size 1, so the result broadcasts against the input.
    public func sum(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        let axis = normalizedAxis(axis, operation: "sum(alongAxis:)")
        let outer = shape[..<axis].reduce(1, *)
        let size = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        var values = [Float](repeating: 0, count: outer * inner)
        data.withUnsafeBufferPointer { x in
            for o in 0..<outer {
                for s in 0..<size {
                    let base = (o * size + s) * inner
                    for i in 0..<inner { values[o * inner + i] += x[base + i] }
                }
            }
        }
        var outputShape = shape
        if keepingDimension { outputShape[axis] = 1 } else { outputShape.remove(at: axis) }
        let input = self
        return Tensor.result(shape: outputShape, data: values, parents: [self]) { output in
            let g = output.grad!
            // Every input along the axis receives the gradient of its sum.
            input.accumulateGrad { gx in
                for o in 0..<outer {
                    for s in 0..<size {
                        let base = (o * size + s) * inner
                        for i in 0..<inner { gx[base + i] += g[o * inner + i] }
                    }
                }
            }
        }
    }

    /// Returns the mean along `axis` (negative counts from the end).
    public func mean(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        let axis = normalizedAxis(axis, operation: "mean(alongAxis:)")
        return sum(alongAxis: axis, keepingDimension: keepingDimension) / Float(shape[axis])
    }

    /// Returns `axis` as a non-negative axis index, trapping with the operation's name when it is out of range.
    func normalizedAxis(_ axis: Int, operation: String) -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        precondition(resolved >= 0 && resolved < rank, "\(operation): axis \(axis) is out of range for shape \(shape)")
        return resolved
    }
}
