// Element-wise arithmetic with NumPy broadcasting. Each operation's backward pass follows it.

extension Tensor {
    /// Applies `combine` to broadcast operands; the result has the broadcast shape.
    fileprivate static func elementwise(
        _ a: Tensor, _ b: Tensor, operation: String, _ combine: (Float, Float) -> Float
    ) -> (shape: [Int], values: [Float]) {
        let shape = broadcastShape(a.shape, b.shape, operation: operation)
        let count = elementCount(shape)
        var values = [Float](repeating: 0, count: count)
        if a.shape == b.shape {
            a.data.withUnsafeBufferPointer { x in
                b.data.withUnsafeBufferPointer { y in
                    values.withUnsafeMutableBufferPointer { out in
                        for i in 0..<count { out[i] = combine(x[i], y[i]) }
                    }
                }
            }
            return (shape, values)
        }
        let x = expand(a.data, from: a.shape, to: shape)
        let y = expand(b.data, from: b.shape, to: shape)
        for i in 0..<count { values[i] = combine(x[i], y[i]) }
        return (shape, values)
    }

    /// Element-wise sum with broadcasting.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let (shape, values) = elementwise(a, b, operation: "add", +)
        return result(shape: shape, data: values, parents: [a, b]) { output in
            let g = output.grad!
            // d(a + b)/da = d(a + b)/db = 1; broadcast dimensions sum the gradient.
            a.accumulateGrad(adding: reduceBroadcast(g, from: shape, to: a.shape))
            b.accumulateGrad(adding: reduceBroadcast(g, from: shape, to: b.shape))
        }
    }

    /// Element-wise difference with broadcasting.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let (shape, values) = elementwise(a, b, operation: "subtract", -)
        return result(shape: shape, data: values, parents: [a, b]) { output in
            let g = output.grad!
            a.accumulateGrad(adding: reduceBroadcast(g, from: shape, to: a.shape))
            b.accumulateGrad(adding: reduceBroadcast(g.map { -$0 }, from: shape, to: b.shape))
        }
    }

    /// Element-wise product with broadcasting.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let (shape, values) = elementwise(a, b, operation: "multiply", *)
        return result(shape: shape, data: values, parents: [a, b]) { output in
            let g = output.grad!
            let count = g.count
            // d(ab)/da = b and d(ab)/db = a.
            if a.requiresGrad {
                let y = expand(b.data, from: b.shape, to: shape)
                var ga = [Float](repeating: 0, count: count)
                for i in 0..<count { ga[i] = g[i] * y[i] }
                a.accumulateGrad(adding: reduceBroadcast(ga, from: shape, to: a.shape))
            }
            if b.requiresGrad {
                let x = expand(a.data, from: a.shape, to: shape)
                var gb = [Float](repeating: 0, count: count)
                for i in 0..<count { gb[i] = g[i] * x[i] }
                b.accumulateGrad(adding: reduceBroadcast(gb, from: shape, to: b.shape))
            }
        }
    }

    /// Element-wise quotient with broadcasting.
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let (shape, values) = elementwise(a, b, operation: "divide", /)
        return result(shape: shape, data: values, parents: [a, b]) { output in
            let g = output.grad!
            let count = g.count
            let y = expand(b.data, from: b.shape, to: shape)
            // d(a/b)/da = 1/b and d(a/b)/db = -a/b².
            if a.requiresGrad {
                var ga = [Float](repeating: 0, count: count)
                for i in 0..<count { ga[i] = g[i] / y[i] }
                a.accumulateGrad(adding: reduceBroadcast(ga, from: shape, to: a.shape))
            }
            if b.requiresGrad {
                let x = expand(a.data, from: a.shape, to: shape)
                var gb = [Float](repeating: 0, count: count)
                for i in 0..<count { gb[i] = -g[i] * x[i] / (y[i] * y[i]) }
                b.accumulateGrad(adding: reduceBroadcast(gb, from: shape, to: b.shape))
            }
        }
    }

    /// Adds a constant to every value.
    public static func + (a: Tensor, scalar: Float) -> Tensor {
        result(shape: a.shape, data: a.data.map { $0 + scalar }, parents: [a]) { output in
            a.accumulateGrad(adding: output.grad!)
        }
    }

    /// Subtracts a constant from every value.
    public static func - (a: Tensor, scalar: Float) -> Tensor {
        a + (-scalar)
    }

    /// Multiplies every value by a constant.
    public static func * (a: Tensor, scalar: Float) -> Tensor {
        result(shape: a.shape, data: a.data.map { $0 * scalar }, parents: [a]) { output in
            a.accumulateGrad(adding: output.grad!.map { $0 * scalar })
        }
    }

    /// Multiplies every value by a constant.
    public static func * (scalar: Float, a: Tensor) -> Tensor {
        a * scalar
    }

    /// Divides every value by a constant.
    public static func / (a: Tensor, scalar: Float) -> Tensor {
        a * (1 / scalar)
    }

    /// Negates every value.
    public static prefix func - (a: Tensor) -> Tensor {
        a * -1
    }
}
