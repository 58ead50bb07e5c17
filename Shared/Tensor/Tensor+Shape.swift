// Operations that rearrange values without changing them: reshape, permute, split, concatenate.

extension Tensor {
    /// Returns the same values viewed with a new shape; one dimension may be -1 and is inferred.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "reshape: cannot infer -1 in \(newShape) from shape \(shape)")
            resolved[inferred] = count / known
        }
        precondition(
            elementCount(resolved) == count,
            "reshape: shape \(shape) has \(count) values but \(newShape) needs \(elementCount(resolved))")
        let input = self
        return Tensor.result(shape: resolved, data: data, parents: [self]) { output in
            input.accumulateGrad(adding: output.grad!)
        }
    }

    /// Returns the tensor with its axes reordered: output axis i is input axis `order[i]`.
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(
            order.sorted() == Array(0..<rank),
            "permute: \(order) is not a permutation of the axes of shape \(shape)")
        let outputShape = order.map { shape[$0] }
        let values = permute(data, shape: shape, order: order)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, axis) in order.enumerated() { inverse[axis] = i }
        let input = self
        return Tensor.result(shape: outputShape, data: values, parents: [self]) { output in
            // The gradient goes back through the inverse permutation.
            input.accumulateGrad(adding: permute(output.grad!, shape: outputShape, order: inverse))
        }
    }

    /// Returns the tensor with two axes swapped (negative axes count from the end).
    public func transposed(_ axis1: Int, _ axis2: Int) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(normalizedAxis(axis1, operation: "transpose"), normalizedAxis(axis2, operation: "transpose"))
        return permuted(order)
    }

    /// Splits the last axis into consecutive pieces of the given sizes.
    public func split(lastAxisSizes sizes: [Int]) -> [Tensor] {
        let width = shape[rank - 1]
        precondition(sizes.reduce(0, +) == width, "split: sizes \(sizes) do not add up to the last dimension of shape \(shape)")
        let rows = count / Swift.max(width, 1)
        var start = 0
        var pieces: [Tensor] = []
        for size in sizes {
            var values = [Float](repeating: 0, count: rows * size)
            let offset = start
            data.withUnsafeBufferPointer { x in
                for r in 0..<rows {
                    for j in 0..<size { values[r * size + j] = x[r * width + offset + j] }
                }
            }
            var pieceShape = shape
            pieceShape[rank - 1] = size
            let input = self
            pieces.append(Tensor.result(shape: pieceShape, data: values, parents: [self]) { output in
                let g = output.grad!
                input.accumulateGrad { gx in
                    for r in 0..<rows {
                        for j in 0..<size { gx[r * width + offset + j] += g[r * size + j] }
                    }
                }
            })
            start += size
        }
        return pieces
    }

    /// Joins tensors along the last axis; all other dimensions must match.
    public static func concatenate(lastAxis tensors: [Tensor]) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate: needs at least one tensor")
        let leading = Array(tensors[0].shape.dropLast())
        for tensor in tensors {
            precondition(
                Array(tensor.shape.dropLast()) == leading,
                "concatenate: shapes \(tensors[0].shape) and \(tensor.shape) differ before the last axis")
        }
        let widths = tensors.map { $0.shape.last! }
        let total = widths.reduce(0, +)
        let rows = leading.reduce(1, *)
        var values = [Float](repeating: 0, count: rows * total)
        var offset = 0
        for (tensor, width) in zip(tensors, widths) {
            tensor.data.withUnsafeBufferPointer { x in
                for r in 0..<rows {
                    for j in 0..<width { values[r * total + offset + j] = x[r * width + j] }
                }
            }
            offset += width
        }
        return result(shape: leading + [total], data: values, parents: tensors) { output in
            let g = output.grad!
            var start = 0
            for (tensor, width) in zip(tensors, widths) {
                let offset = start
                tensor.accumulateGrad { gx in
                    for r in 0..<rows {
                        for j in 0..<width { gx[r * width + j] += g[r * total + offset + j] }
                    }
                }
                start += width
            }
        }
    }
}

/// Returns `values` of `shape` with axes reordered so output axis i is input axis `order[i]`.
///
/// The output is written one run of its innermost axis at a time. When that axis is also the
/// input's innermost one (splitting attention heads, for example), each run is one contiguous copy.
/// Runs are shared between cores, and each core starts its odometer at its first run.
func permute(_ values: [Float], shape: [Int], order: [Int]) -> [Float] {
    let rank = shape.count
    var inputStrides = [Int](repeating: 1, count: rank)
    for axis in stride(from: rank - 2, through: 0, by: -1) {
        inputStrides[axis] = inputStrides[axis + 1] * shape[axis + 1]
    }
    let outputShape = order.map { shape[$0] }
    let strides = order.map { inputStrides[$0] }
    // Every output element is written once below, so the buffer starts uninitialised.
    return uninitializedValues(count: values.count) { out in
        values.withUnsafeBufferPointer { input in
            let innerSize = outputShape.last ?? 1
            let innerStride = strides.last ?? 1
            guard rank > 0, innerSize > 0 else {
                if !values.isEmpty { out[0] = input[0] }
                return
            }
            let outerShape = Array(outputShape.dropLast())
            let outerStrides = Array(strides.dropLast())
            let runs = values.count / innerSize
            let source = input.baseAddress!
            let destination = SharedPointer(base: out.baseAddress!)
            parallelRanges(count: runs, minimumPerThread: max(1, 8_192 / innerSize)) { range in
                forEachOffset(shape: outerShape, strides: outerStrides, in: range) { run, offset in
                    let target = destination.base + run * innerSize
                    if innerStride == 1 {
                        target.update(from: source + offset, count: innerSize)
                    } else {
                        for j in 0..<innerSize { target[j] = source[offset + j * innerStride] }
                    }
                }
            }
        }
    }
}
