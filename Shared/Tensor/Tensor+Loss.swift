import Foundation

extension Tensor {
    /// Returns the mean cross-entropy between `logits` `[N, V]` (or `[B, T, V]`, read as N = B·T rows)
    /// and integer `targets` (one per row, each in 0..<V), as a scalar.
    ///
    /// Fused and stable: each row's loss is logsumexp(row) − row[target] with the row's maximum
    /// subtracted first, so huge logits never overflow. The gradient is (softmax − one-hot) / N.
    public static func crossEntropy(logits: Tensor, targets: [Int]) -> Tensor {
        let width = logits.shape.last ?? 0
        let rows = width == 0 ? 0 : logits.count / width
        precondition(width > 0 && rows > 0, "crossEntropy: logits need shape [N, V] with N, V > 0, got \(logits.shape)")
        precondition(targets.count == rows, "crossEntropy: \(rows) rows of logits \(logits.shape) but \(targets.count) targets")

        var probabilities = [Float](repeating: 0, count: logits.count)
        var total: Double = 0
        logits.data.withUnsafeBufferPointer { x in
            probabilities.withUnsafeMutableBufferPointer { p in
                for r in 0..<rows {
                    let target = targets[r]
                    precondition(target >= 0 && target < width, "crossEntropy: target \(target) at row \(r) is outside 0..<\(width)")
                    let row = x.baseAddress! + r * width
                    var maximum = -Float.infinity
                    for j in 0..<width { maximum = Swift.max(maximum, row[j]) }
                    var sum: Float = 0
                    for j in 0..<width {
                        let e = Foundation.exp(row[j] - maximum)
                        p[r * width + j] = e
                        sum += e
                    }
                    for j in 0..<width { p[r * width + j] /= sum }
                    total += Double(maximum - row[target]) + Double(Foundation.log(sum))
                }
            }
        }

        return result(shape: [], data: [Float(total / Double(rows))], parents: [logits]) { output in
            let scale = output.grad![0] / Float(rows)
            logits.accumulateGrad { g in
                for r in 0..<rows {
                    for j in 0..<width { g[r * width + j] += scale * probabilities[r * width + j] }
                    g[r * width + targets[r]] -= scale
                }
            }
        }
    }
}
