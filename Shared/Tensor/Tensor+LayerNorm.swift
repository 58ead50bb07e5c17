import Foundation

extension Tensor {
    /// Returns LayerNorm over the last axis, fused: y = (x − mean) / √(var + ε) · gain + bias, with the
    /// biased variance as in PyTorch. `gain` and `bias` have shape `[C]`; `bias` may be omitted.
    public static func layerNorm(_ x: Tensor, gain: Tensor, bias: Tensor?, epsilon: Float = 1e-5) -> Tensor {
        let width = x.shape.last ?? 0
        precondition(gain.shape == [width], "layerNorm: gain shape \(gain.shape) does not match last axis of \(x.shape)")
        if let bias {
            precondition(bias.shape == [width], "layerNorm: bias shape \(bias.shape) does not match last axis of \(x.shape)")
        }
        let rows = width == 0 ? 0 : x.count / width
        var normalized = [Float](repeating: 0, count: x.count)
        var inverseDeviations = [Float](repeating: 0, count: rows)
        var values = [Float](repeating: 0, count: x.count)
        for r in 0..<rows {
            let base = r * width
            var mean: Float = 0
            for j in 0..<width { mean += x.data[base + j] }
            mean /= Float(width)
            var variance: Float = 0
            for j in 0..<width {
                let d = x.data[base + j] - mean
                variance += d * d
            }
            variance /= Float(width)
            let inverse = 1 / (variance + epsilon).squareRoot()
            inverseDeviations[r] = inverse
            for j in 0..<width {
                let n = (x.data[base + j] - mean) * inverse
                normalized[base + j] = n
                values[base + j] = n * gain.data[j] + (bias?.data[j] ?? 0)
            }
        }

        let parents = bias.map { [x, gain, $0] } ?? [x, gain]
        return result(shape: x.shape, data: values, parents: parents) { output in
            let g = output.grad!
            bias?.accumulateGrad { gb in
                for r in 0..<rows {
                    for j in 0..<width { gb[j] += g[r * width + j] }
                }
            }
            gain.accumulateGrad { gg in
                for r in 0..<rows {
                    for j in 0..<width { gg[j] += g[r * width + j] * normalized[r * width + j] }
                }
            }
            // With n = normalized input and d = g ⊙ gain:
            // dx = (1/σ) · (d − mean(d) − n · mean(d ⊙ n)).
            x.accumulateGrad { gx in
                for r in 0..<rows {
                    let base = r * width
                    var meanD: Float = 0
                    var meanDN: Float = 0
                    for j in 0..<width {
                        let d = g[base + j] * gain.data[j]
                        meanD += d
                        meanDN += d * normalized[base + j]
                    }
                    meanD /= Float(width)
                    meanDN /= Float(width)
                    for j in 0..<width {
                        let d = g[base + j] * gain.data[j]
                        gx[base + j] += inverseDeviations[r] * (d - meanD - normalized[base + j] * meanDN)
                    }
                }
            }
        }
    }
}
