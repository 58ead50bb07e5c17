/// Returns the shape two operands broadcast to, following NumPy's rule: align the shapes at their
/// last dimension, and each pair of sizes must be equal or one of them 1.
func broadcastShape(_ a: [Int], _ b: [Int], operation: String) -> [Int] {
    let rank = max(a.count, b.count)
    var result = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let sizeA = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let sizeB = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        precondition(
            sizeA == sizeB || sizeA == 1 || sizeB == 1,
            "\(operation): shapes \(a) and \(b) do not broadcast (dimension \(i): \(sizeA) vs \(sizeB))")
        result[i] = sizeA == 1 ? sizeB : sizeA
    }
    return result
}

/// Strides for reading a tensor of `shape` as if it had `outputShape`: broadcast dimensions get stride 0.
func broadcastStrides(from shape: [Int], to outputShape: [Int]) -> [Int] {
    let offset = outputShape.count - shape.count
    var strides = [Int](repeating: 0, count: outputShape.count)
    var step = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i + offset] = shape[i] == 1 ? 0 : step
        step *= shape[i]
    }
    return strides
}

/// Returns the values of a tensor of `shape` repeated out to `outputShape`.
func expand(_ values: [Float], from shape: [Int], to outputShape: [Int]) -> [Float] {
    if shape == outputShape { return values }
    let outputCount = elementCount(outputShape)
    var result = [Float](repeating: 0, count: outputCount)
    let inputCount = values.count
    // Fast path: the input is a suffix block (for example a bias [C] added to [B, T, C]).
    if inputCount > 0, outputCount % inputCount == 0, Array(outputShape.suffix(shape.count)) == shape {
        result.withUnsafeMutableBufferPointer { out in
            values.withUnsafeBufferPointer { input in
                for block in 0..<(outputCount / inputCount) {
                    (out.baseAddress! + block * inputCount).update(from: input.baseAddress!, count: inputCount)
                }
            }
        }
        return result
    }
    let strides = broadcastStrides(from: shape, to: outputShape)
    forEachOffset(shape: outputShape, strides: strides) { outputIndex, inputOffset in
        result[outputIndex] = values[inputOffset]
    }
    return result
}

/// Returns `values` (laid out as `outputShape`) summed down to `shape`: the adjoint of `expand`,
/// used to send a gradient back through a broadcast.
func reduceBroadcast(_ values: [Float], from outputShape: [Int], to shape: [Int]) -> [Float] {
    if shape == outputShape { return values }
    let inputCount = elementCount(shape)
    var result = [Float](repeating: 0, count: inputCount)
    if inputCount > 0, values.count % inputCount == 0, Array(outputShape.suffix(shape.count)) == shape {
        result.withUnsafeMutableBufferPointer { out in
            values.withUnsafeBufferPointer { input in
                for block in 0..<(values.count / inputCount) {
                    let base = block * inputCount
                    for i in 0..<inputCount { out[i] += input[base + i] }
                }
            }
        }
        return result
    }
    let strides = broadcastStrides(from: shape, to: outputShape)
    forEachOffset(shape: outputShape, strides: strides) { outputIndex, inputOffset in
        result[inputOffset] += values[outputIndex]
    }
    return result
}

/// Calls `body` with each row-major index of `shape` in `range` (all of them when `range` is nil)
/// and the matching offset under `strides`.
func forEachOffset(shape: [Int], strides: [Int], in range: Range<Int>? = nil, _ body: (Int, Int) -> Void) {
    let range = range ?? 0..<elementCount(shape)
    guard !range.isEmpty else { return }

    // The multi-index of the first linear index, and its offset.
    var index = [Int](repeating: 0, count: shape.count)
    var offset = 0
    var remainder = range.lowerBound
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        index[axis] = remainder % shape[axis]
        remainder /= shape[axis]
        offset += index[axis] * strides[axis]
    }

    for linear in range {
        body(linear, offset)
        // Advance the multi-index like an odometer, keeping the strided offset in step.
        var axis = shape.count - 1
        while axis >= 0 {
            index[axis] += 1
            offset += strides[axis]
            if index[axis] < shape[axis] { break }
            offset -= strides[axis] * shape[axis]
            index[axis] = 0
            axis -= 1
        }
    }
}
