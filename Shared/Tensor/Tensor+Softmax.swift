import Foundation

// Softmax, log-softmax and causal masking along the last axis. Each row is shifted by its maximum
// before exponentiating, so logits of any size give finite results.

extension Tensor {
    /// Returns softmax over the last axis: each row becomes non-negative and sums to 1.
    public func softmax() -> Tensor {
        let width = shape.last ?? 1
        var values = data
        values.withUnsafeMutableBufferPointer { rows in
            for start in stride(from: 0, to: rows.count, by: width) {
                softmaxRow(rows.baseAddress! + start, count: width)
            }
        }
        let input = self
        return Tensor.result(shape: shape, data: values, parents: [self]) { output in
            let g = output.grad!
            input.accumulateGrad { gx in
                softmaxBackward(probabilities: output.data, upstream: g, width: width, scale: 1, into: gx)
            }
        }
    }

    /// Returns log-softmax over the last axis, x − log Σ exp(x), computed stably.
    public func logSoftmax() -> Tensor {
        let width = shape.last ?? 1
        var values = data
        values.withUnsafeMutableBufferPointer { rows in
            for start in stride(from: 0, to: rows.count, by: width) {
                let row = rows.baseAddress! + start
                var maximum = -Float.infinity
                for j in 0..<width { maximum = Swift.max(maximum, row[j]) }
                var total: Float = 0
                for j in 0..<width { total += Foundation.exp(row[j] - maximum) }
                // (x − max) − log Σ keeps full precision; (max + log Σ) would round at the size of max.
                let logTotal = Foundation.log(total)
                for j in 0..<width { row[j] = (row[j] - maximum) - logTotal }
            }
        }
        let input = self
        return Tensor.result(shape: shape, data: values, parents: [self]) { output in
            let g = output.grad!
            // d/dx_j of log-softmax_i is δ_ij − softmax_j, so dx = g − softmax · Σ g.
            input.accumulateGrad { gx in
                for start in stride(from: 0, to: g.count, by: width) {
                    var total: Float = 0
                    for j in 0..<width { total += g[start + j] }
                    for j in 0..<width {
                        gx[start + j] += g[start + j] - Foundation.exp(output.data[start + j]) * total
                    }
                }
            }
        }
    }

    /// Returns the tensor with every entry above the diagonal of its last two axes replaced by `value`:
    /// position t may look only at positions 0…t. The last two axes must be square, `[..., T, T]`.
    public func causalMasked(fill value: Float = -.infinity) -> Tensor {
        precondition(rank >= 2 && shape[rank - 1] == shape[rank - 2], "causalMasked: needs [..., T, T], got \(shape)")
        let size = shape[rank - 1]
        var values = data
        forEachMaskedEntry(size: size, count: count) { values[$0] = value }
        let input = self
        return Tensor.result(shape: shape, data: values, parents: [self]) { output in
            var g = output.grad!
            // Masked entries are constants, so no gradient reaches the input there.
            forEachMaskedEntry(size: size, count: g.count) { g[$0] = 0 }
            input.accumulateGrad(adding: g)
        }
    }

    /// Returns softmax(scale · x) with the causal mask applied, fused into one pass: the attention
    /// matrix from raw scores `[..., T, T]`. Entries above the diagonal are exactly 0.
    public func causalSoftmax(scale: Float) -> Tensor {
        precondition(rank >= 2 && shape[rank - 1] == shape[rank - 2], "causalSoftmax: needs [..., T, T], got \(shape)")
        let size = shape[rank - 1]
        var values = [Float](repeating: 0, count: count)
        let rowCount = size == 0 ? 0 : count / size
        data.withUnsafeBufferPointer { input in
            values.withUnsafeMutableBufferPointer { output in
                let x = SharedPointer(base: UnsafeMutablePointer(mutating: input.baseAddress!))
                let y = SharedPointer(base: output.baseAddress!)
                parallelRanges(count: rowCount, minimumPerThread: 256) { rows in
                    for globalRow in rows {
                        // Row t of each matrix sees positions 0…t; the rest stay 0.
                        let visible = globalRow % size + 1
                        let start = globalRow * size
                        for j in 0..<visible { y.base[start + j] = x.base[start + j] * scale }
                        softmaxRow(y.base + start, count: visible)
                    }
                }
            }
        }
        let input = self
        return Tensor.result(shape: shape, data: values, parents: [self]) { output in
            let g = output.grad!
            input.accumulateGrad { gx in
                softmaxBackward(probabilities: output.data, upstream: g, width: size, scale: scale, into: gx)
            }
        }
    }
}

/// Replaces a row of `count` logits by their softmax, shifting by the maximum for stability.
/// Eight lanes at a time with `fastExp`; a row of only −∞ (everything masked) becomes zeros, not NaN.
@inline(__always)
func softmaxRow(_ row: UnsafeMutablePointer<Float>, count: Int) {
    var maximum = -Float.infinity
    for j in 0..<count { maximum = max(maximum, row[j]) }
    guard maximum > -.infinity else {
        for j in 0..<count { row[j] = 0 }
        return
    }
    let shift = SIMD8<Float>(repeating: maximum)
    var totals = SIMD8<Float>(repeating: 0)
    var j = 0
    while j + 8 <= count {
        let e = fastExp(UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Float>.self) - shift)
        UnsafeMutableRawPointer(row + j).storeBytes(of: e, as: SIMD8<Float>.self)
        totals += e
        j += 8
    }
    var total = totals.sum()
    if j < count {
        var tail = SIMD8<Float>(repeating: -.infinity)
        for lane in 0..<(count - j) { tail[lane] = row[j + lane] }
        let e = fastExp(tail - shift)
        for lane in 0..<(count - j) {
            row[j + lane] = e[lane]
            total += e[lane]
        }
    }
    let inverse = 1 / total
    for j in 0..<count { row[j] *= inverse }
}

/// Adds scale · y ⊙ (g − Σ g ⊙ y) row by row: the gradient of softmax(scale · x) given y and upstream g.
/// Rows are split across threads.
func softmaxBackward(
    probabilities y: [Float], upstream g: [Float], width: Int, scale: Float, into gx: UnsafeMutableBufferPointer<Float>
) {
    guard width > 0 else { return }
    y.withUnsafeBufferPointer { yBuffer in
        g.withUnsafeBufferPointer { gBuffer in
            let (yBase, gBase) = (yBuffer.baseAddress!, gBuffer.baseAddress!)
            let out = SharedPointer(base: gx.baseAddress!)
            parallelRanges(count: g.count / width, minimumPerThread: 256) { rows in
                for row in rows {
                    let start = row * width
                    var dot: Float = 0
                    for j in 0..<width { dot += gBase[start + j] * yBase[start + j] }
                    for j in 0..<width {
                        out.base[start + j] += scale * yBase[start + j] * (gBase[start + j] - dot)
                    }
                }
            }
        }
    }
}

/// Calls `body` with the offset of each entry above the diagonal in a stack of `size`×`size` matrices.
private func forEachMaskedEntry(size: Int, count: Int, _ body: (Int) -> Void) {
    guard size > 0 else { return }
    for matrix in stride(from: 0, to: count, by: size * size) {
        for row in 0..<size {
            for column in (row + 1)..<Swift.max(row + 1, size) {
                body(matrix + row * size + column)
            }
        }
    }
}
