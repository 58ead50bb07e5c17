import Foundation

/// An n-dimensional array of `Float` values in row-major order that records the operations
/// producing it, so that `backward()` can compute gradients by reverse-mode differentiation.
///
/// Shapes are written `[B, T, C]` (batch, time, channels). A tensor of shape `[]` is a scalar.
/// The values live in `data`; after `backward()` the gradient of the loss with respect to
/// each tensor that requires one lives in `grad`, in the same layout.
public final class Tensor {
    /// The size of each dimension, outermost first.
    public let shape: [Int]
    /// The values in row-major order; `data.count` equals the product of `shape`.
    public var data: [Float]
    /// The accumulated gradient, or `nil` before any backward pass reached this tensor.
    public var grad: [Float]?
    /// Whether gradients flow into this tensor. Parameters set it; results inherit it from their inputs.
    public var requiresGrad: Bool

    /// The inputs of the operation that produced this tensor (empty for leaves and in no-grad mode).
    var parents: [Tensor] = []
    /// Adds this tensor's gradient, scaled by the local derivative, into each parent's gradient.
    var backwardFunction: ((Tensor) -> Void)?

    /// Creates a tensor from values in row-major order.
    public init(shape: [Int], data: [Float], requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: dimensions must be non-negative, got shape \(shape)")
        precondition(
            shape.reduce(1, *) == data.count,
            "Tensor: shape \(shape) needs \(shape.reduce(1, *)) values, got \(data.count)")
        self.shape = shape
        self.data = data
        self.requiresGrad = requiresGrad
    }

    /// Creates a tensor of the given shape filled with one value.
    public convenience init(repeating value: Float, shape: [Int], requiresGrad: Bool = false) {
        self.init(shape: shape, data: [Float](repeating: value, count: shape.reduce(1, *)), requiresGrad: requiresGrad)
    }

    /// Creates a scalar tensor of shape `[]`.
    public convenience init(scalar: Float, requiresGrad: Bool = false) {
        self.init(shape: [], data: [scalar], requiresGrad: requiresGrad)
    }

    /// The number of values, the product of `shape`.
    public var count: Int { data.count }

    /// The number of dimensions.
    public var rank: Int { shape.count }

    /// The only value of a one-element tensor, such as a loss.
    public var item: Float {
        precondition(count == 1, "Tensor.item: needs exactly one value, got shape \(shape)")
        return data[0]
    }

    /// The gradient as a tensor of the same shape, or `nil` when there is none.
    public var gradient: Tensor? {
        grad.map { Tensor(shape: shape, data: $0) }
    }

    deinit {
        // Each result keeps its inputs in `parents` and in its backward closure. Releasing a long
        // chain node by node would recurse once per node and overflow the stack, so the inputs this
        // tensor owned alone are emptied here, in a loop.
        var pending = parents
        parents = []
        backwardFunction = nil
        while var node = pending.popLast() {
            guard isKnownUniquelyReferenced(&node) else { continue }
            pending.append(contentsOf: node.parents)
            node.parents = []
            node.backwardFunction = nil
        }
    }

    /// Returns a tensor with the same values, cut off from the graph and requiring no gradient.
    public func detached() -> Tensor {
        Tensor(shape: shape, data: data)
    }
}

// MARK: - Recording operations

extension Tensor {
    /// Whether the current task (or thread, outside any task) records graphs. Task-local, so
    /// evaluation on one thread or test never switches off recording on another.
    @TaskLocal static var recordsGradients = true

    /// Whether operations currently record a graph for `backward()`.
    public static var isGradientRecordingEnabled: Bool { recordsGradients }

    /// Runs `body` without recording a graph: results require no gradient and keep no reference
    /// to their inputs, so evaluation and generation keep no intermediate buffers alive.
    /// The setting applies to the current task (or thread) only and nests.
    public static func withoutGradients<Result>(_ body: () throws -> Result) rethrows -> Result {
        try $recordsGradients.withValue(false) {
            try body()
        }
    }

    /// Wraps the values an operation computed. When gradients are recorded and an input requires
    /// one, the result remembers its inputs and the function that sends its gradient back to them.
    static func result(
        shape: [Int], data: [Float], parents: [Tensor],
        backward: @escaping (Tensor) -> Void
    ) -> Tensor {
        let output = Tensor(shape: shape, data: data)
        if isGradientRecordingEnabled && parents.contains(where: { $0.requiresGrad }) {
            output.requiresGrad = true
            output.parents = parents
            output.backwardFunction = backward
        }
        return output
    }

    /// Gives `body` this tensor's gradient buffer to add into, allocating zeros the first time.
    /// Does nothing when the tensor requires no gradient.
    func accumulateGrad(_ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        guard requiresGrad else { return }
        if grad == nil {
            grad = [Float](repeating: 0, count: count)
        }
        grad!.withUnsafeMutableBufferPointer { buffer in body(buffer) }
    }

    /// Gives `body` the gradient buffer and whether it is new. A new buffer is uninitialised, so
    /// `body` must then write every element (for example a GEMM with beta 0) instead of adding.
    /// Does nothing when the tensor requires no gradient.
    func accumulateGrad(_ body: (UnsafeMutableBufferPointer<Float>, _ isNew: Bool) -> Void) {
        guard requiresGrad else { return }
        if grad == nil {
            grad = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                body(buffer, true)
                initialized = count
            }
            return
        }
        grad!.withUnsafeMutableBufferPointer { buffer in body(buffer, false) }
    }

    /// Adds `values` (same layout as this tensor) into the gradient.
    func accumulateGrad(adding values: [Float]) {
        guard requiresGrad else { return }
        if grad == nil {
            grad = values
            return
        }
        accumulateGrad { g in
            values.withUnsafeBufferPointer { v in
                let (out, input) = (SharedPointer(base: g.baseAddress!), v.baseAddress!)
                parallelRanges(count: g.count, minimumPerThread: 32_768) { range in
                    for i in range { out.base[i] += input[i] }
                }
            }
        }
    }
}

// MARK: - Backward pass

extension Tensor {
    /// Computes the gradient of this tensor with respect to every tensor in its graph that requires
    /// one, adding into their `grad`. With no seed the tensor must hold one value (a loss), and its
    /// own gradient is 1.
    ///
    /// Gradients accumulate: a tensor used twice receives the sum of both contributions, and so does
    /// a tensor reached again by a second `backward()` until its `grad` is cleared. Afterwards the
    /// graph is released, so intermediate buffers are freed once the caller drops the result.
    public func backward(seed: [Float]? = nil) {
        if let seed {
            precondition(seed.count == count, "Tensor.backward: seed has \(seed.count) values, tensor shape is \(shape)")
        } else {
            precondition(count == 1, "Tensor.backward: needs a one-value tensor such as a loss, got shape \(shape); pass a seed gradient for others")
        }
        guard requiresGrad else { return }

        let order = topologicalOrder()
        accumulateGrad(adding: seed ?? [1])
        for node in order.reversed() {
            guard let backwardFunction = node.backwardFunction, node.grad != nil else { continue }
            backwardFunction(node)
        }
        for node in order where node.backwardFunction != nil {
            node.parents = []
            node.backwardFunction = nil
        }
    }

    /// Returns every tensor this one depends on through recorded operations, each after all of its inputs.
    func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        // An explicit stack, because a long chain of operations would overflow the call stack.
        var stack: [(tensor: Tensor, parentsDone: Bool)] = [(self, false)]
        while let (tensor, parentsDone) = stack.popLast() {
            if parentsDone {
                order.append(tensor)
                continue
            }
            guard visited.insert(ObjectIdentifier(tensor)).inserted else { continue }
            stack.append((tensor, true))
            for parent in tensor.parents where parent.requiresGrad && !visited.contains(ObjectIdentifier(parent)) {
                stack.append((parent, false))
            }
        }
        return order
    }

    /// Clears the gradient; the next backward pass starts from zero.
    public func zeroGrad() {
        grad = nil
    }
}

// MARK: - Creation

extension Tensor {
    /// Returns a tensor of zeros.
    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(repeating: 0, shape: shape, requiresGrad: requiresGrad)
    }

    /// Returns a tensor of ones.
    public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(repeating: 1, shape: shape, requiresGrad: requiresGrad)
    }

    /// Returns a tensor of independent normal draws with mean 0 and standard deviation `std`.
    public static func randomNormal(
        _ shape: [Int], std: Float, generator: inout SeededGenerator, requiresGrad: Bool = false
    ) -> Tensor {
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count {
            values[i] = generator.nextNormal() * std
        }
        return Tensor(shape: shape, data: values, requiresGrad: requiresGrad)
    }
}

extension Tensor: CustomStringConvertible {
    /// The shape and up to eight leading values, for debugging.
    public var description: String {
        let shown = data.prefix(8).map { String(format: "%.4f", $0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), data: [\(shown)\(count > 8 ? ", …" : "")])"
    }
}

/// Returns an array of `count` values that `body` must write in full: it skips the zero fill that
/// `[Float](repeating: 0, count:)` spends on buffers a kernel overwrites anyway.
@inline(__always)
func uninitializedValues(count: Int, _ body: (UnsafeMutableBufferPointer<Float>) -> Void) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        body(buffer)
        initialized = count
    }
}

/// Returns the product of the dimensions, the number of values a shape contains.
@inline(__always)
func elementCount(_ shape: [Int]) -> Int {
    shape.reduce(1, *)
}
