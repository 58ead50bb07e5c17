import Foundation

// Element-wise functions. Each backward pass multiplies the upstream gradient by the derivative.

extension Tensor {
    /// Applies `function` to every value; `derivative(x, y)` gives dy/dx from the input x and output y.
    fileprivate func unary(
        _ function: (Float) -> Float, derivative: @escaping (Float, Float) -> Float
    ) -> Tensor {
        let input = self
        let values = data.map(function)
        return Tensor.result(shape: shape, data: values, parents: [self]) { output in
            let g = output.grad!
            input.accumulateGrad { gx in
                for i in 0..<gx.count {
                    gx[i] += g[i] * derivative(input.data[i], output.data[i])
                }
            }
        }
    }

    /// Returns e raised to each value.
    public func exp() -> Tensor {
        unary(Foundation.exp) { _, y in y }
    }

    /// Returns the natural logarithm of each value.
    public func log() -> Tensor {
        unary(Foundation.log) { x, _ in 1 / x }
    }

    /// Returns the hyperbolic tangent of each value.
    public func tanh() -> Tensor {
        unary(Foundation.tanh) { _, y in 1 - y * y }
    }

    /// Returns each value squared.
    public func squared() -> Tensor {
        unary({ $0 * $0 }) { x, _ in 2 * x }
    }

    /// Returns max(0, x) for each value; the derivative at 0 is taken as 0, as in PyTorch.
    public func relu() -> Tensor {
        unary({ Swift.max(0, $0) }) { x, _ in x > 0 ? 1 : 0 }
    }

    /// Returns the Gaussian error linear unit x·Φ(x) in its exact form with the error function,
    /// PyTorch's default: GELU(x) = x/2 · (1 + erf(x/√2)).
    public func gelu() -> Tensor {
        let input = self
        var values = [Float](repeating: 0, count: count)
        data.withUnsafeBufferPointer { x in
            for i in 0..<x.count {
                values[i] = 0.5 * x[i] * (1 + erf(x[i] * Float(0.5).squareRoot()))
            }
        }
        return Tensor.result(shape: shape, data: values, parents: [self]) { output in
            let g = output.grad!
            // d/dx [x·Φ(x)] = Φ(x) + x·φ(x), with φ the standard normal density.
            let inverseSqrtTwoPi = 1 / Float(2 * Double.pi).squareRoot()
            input.accumulateGrad { gx in
                input.data.withUnsafeBufferPointer { x in
                    for i in 0..<x.count {
                        let cdf = 0.5 * (1 + erf(x[i] * Float(0.5).squareRoot()))
                        let density = inverseSqrtTwoPi * Foundation.exp(-0.5 * x[i] * x[i])
                        gx[i] += g[i] * (cdf + x[i] * density)
                    }
                }
            }
        }
    }
}
