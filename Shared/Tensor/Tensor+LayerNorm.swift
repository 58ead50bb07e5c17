extension Tensor {
    /// Returns LayerNorm over the last axis, fused: y = (x − mean) / √(var + ε) · gain + bias, with the
    /// biased variance as in PyTorch. `gain` and `bias` have shape `[C]`; `bias` may be omitted.
    ///
    /// The forward pass keeps the normalised values and each row's 1/σ for the backward pass.
    /// Rows are split across threads.
    public static func layerNorm(_ x: Tensor, gain: Tensor, bias: Tensor?, epsilon: Float = 1e-5) -> Tensor {
        let width = x.shape.last ?? 0
        precondition(gain.shape == [width], "layerNorm: gain shape \(gain.shape) does not match last axis of \(x.shape)")
        if let bias {
            precondition(bias.shape == [width], "layerNorm: bias shape \(bias.shape) does not match last axis of \(x.shape)")
        }
        let rows = width == 0 ? 0 : x.count / width
        // layerNormRows writes every element of these three buffers, so they start uninitialised.
        var normalized = uninitializedValues(count: x.count) { _ in }
        var inverseDeviations = uninitializedValues(count: rows) { _ in }
        var values = uninitializedValues(count: x.count) { _ in }
        let biasValues = bias?.data ?? [Float](repeating: 0, count: width)

        x.data.withUnsafeBufferPointer { input in
            gain.data.withUnsafeBufferPointer { gainBuffer in
                biasValues.withUnsafeBufferPointer { biasBuffer in
                    normalized.withUnsafeMutableBufferPointer { normalizedBuffer in
                        inverseDeviations.withUnsafeMutableBufferPointer { inverseBuffer in
                            values.withUnsafeMutableBufferPointer { valueBuffer in
                                let n = SharedPointer(base: normalizedBuffer.baseAddress!)
                                let inverse = SharedPointer(base: inverseBuffer.baseAddress!)
                                let y = SharedPointer(base: valueBuffer.baseAddress!)
                                let (xBase, gBase, bBase) = (input.baseAddress!, gainBuffer.baseAddress!, biasBuffer.baseAddress!)
                                parallelRanges(count: rows, minimumPerThread: 64) { range in
                                    layerNormRows(
                                        range, width: width, epsilon: epsilon, x: xBase, gain: gBase, bias: bBase,
                                        normalized: n.base, inverseDeviations: inverse.base, y: y.base)
                                }
                            }
                        }
                    }
                }
            }
        }

        let parents = bias.map { [x, gain, $0] } ?? [x, gain]
        return result(shape: x.shape, data: values, parents: parents) { output in
            let g = output.grad!
            // The gain and bias gradients sum over rows: dbias = Σ g and dgain = Σ g ⊙ n.
            bias?.accumulateGrad { gb in
                g.withUnsafeBufferPointer { gp in
                    addColumnSums(rows: rows, width: width, of: gp.baseAddress!, times: nil, into: gb.baseAddress!)
                }
            }
            gain.accumulateGrad { gg in
                g.withUnsafeBufferPointer { gp in
                    normalized.withUnsafeBufferPointer { np in
                        addColumnSums(rows: rows, width: width, of: gp.baseAddress!, times: np.baseAddress!,
                                      into: gg.baseAddress!)
                    }
                }
            }
            // With n = normalized input and d = g ⊙ gain:
            // dx = (1/σ) · (d − mean(d) − n · mean(d ⊙ n)).
            x.accumulateGrad { gx, isNew in
                g.withUnsafeBufferPointer { gp in
                    normalized.withUnsafeBufferPointer { np in
                        gain.data.withUnsafeBufferPointer { gainBuffer in
                            let out = SharedPointer(base: gx.baseAddress!)
                            let (gBase, nBase, gainBase) = (gp.baseAddress!, np.baseAddress!, gainBuffer.baseAddress!)
                            parallelRanges(count: rows, minimumPerThread: 64) { range in
                                for r in range {
                                    let base = r * width
                                    var meanD: Float = 0
                                    var meanDN: Float = 0
                                    for j in 0..<width {
                                        let d = gBase[base + j] * gainBase[j]
                                        meanD += d
                                        meanDN += d * nBase[base + j]
                                    }
                                    meanD /= Float(width)
                                    meanDN /= Float(width)
                                    let inverseDeviation = inverseDeviations[r]
                                    // A new gradient buffer is uninitialised, so it is written, not added to.
                                    for j in 0..<width {
                                        let d = gBase[base + j] * gainBase[j]
                                        let value = inverseDeviation * (d - meanD - nBase[base + j] * meanDN)
                                        out.base[base + j] = isNew ? value : out.base[base + j] + value
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Normalises the rows in `range`, writing n = (x − mean)/σ, 1/σ and y = n · gain + bias.
private func layerNormRows(
    _ range: Range<Int>, width: Int, epsilon: Float,
    x: UnsafePointer<Float>, gain: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    normalized: UnsafeMutablePointer<Float>, inverseDeviations: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>
) {
    for r in range {
        let row = x + r * width
        var mean: Float = 0
        for j in 0..<width { mean += row[j] }
        mean /= Float(width)
        var variance: Float = 0
        for j in 0..<width {
            let d = row[j] - mean
            variance += d * d
        }
        variance /= Float(width)
        let inverseDeviation = 1 / (variance + epsilon).squareRoot()
        inverseDeviations[r] = inverseDeviation
        for j in 0..<width {
            let value = (row[j] - mean) * inverseDeviation
            normalized[r * width + j] = value
            y[r * width + j] = value * gain[j] + bias[j]
        }
    }
}

/// Adds to `sums[j]` the sum over `rows` rows of `values[r, j]`, times `factors[r, j]` when given.
///
/// Cores share the columns, and each adds its rows in order, so the sums do not depend on the
/// number of cores.
private func addColumnSums(rows: Int, width: Int, of values: UnsafePointer<Float>, times factors: UnsafePointer<Float>?,
                           into sums: UnsafeMutablePointer<Float>) {
    let output = SharedPointer(base: sums)
    parallelRanges(count: width, minimumPerThread: 32) { columns in
        for r in 0..<rows {
            let base = r * width
            if let factors {
                for j in columns { output.base[j] += values[base + j] * factors[base + j] }
            } else {
                for j in columns { output.base[j] += values[base + j] }
            }
        }
    }
}
