import Foundation

/// Plain stochastic gradient descent: p ← p − learningRate · grad.
public final class SGD {
    /// The tensors updated by `step()`.
    public let parameters: [Tensor]
    /// The step size.
    public var learningRate: Float

    /// Creates an optimizer for `parameters`.
    public init(parameters: [Tensor], learningRate: Float) {
        self.parameters = parameters
        self.learningRate = learningRate
    }

    /// Moves every parameter that has a gradient one step against it.
    public func step() {
        for parameter in parameters {
            guard let grad = parameter.grad else { continue }
            for i in 0..<parameter.count { parameter.data[i] -= learningRate * grad[i] }
        }
    }
}

/// Adam with decoupled weight decay (Loshchilov and Hutter, "Decoupled Weight Decay Regularization", 2019),
/// as PyTorch's `torch.optim.AdamW`.
///
/// Each step, for a parameter p with gradient g, at step t counted from 1:
/// p ← p − lr·λ·p (only for 2-D weight matrices), m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
/// p ← p − lr · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε).
/// Weight decay skips tensors of other ranks, so LayerNorm gains and biases are never decayed.
public final class AdamW {
    /// The tensors updated by `step()`, with their names (used for saving the optimizer state).
    public let parameters: [(name: String, tensor: Tensor)]
    /// The step size; a schedule may change it between steps.
    public var learningRate: Float
    /// Decay rates of the first and second moment estimates.
    public let beta1: Float, beta2: Float
    /// Added to the denominator to avoid division by zero.
    public let epsilon: Float
    /// The decoupled weight decay λ, applied to 2-D tensors only.
    public let weightDecay: Float
    /// The number of steps taken so far.
    public private(set) var stepCount = 0

    private var firstMoments: [[Float]]
    private var secondMoments: [[Float]]

    /// Creates an optimizer with PyTorch's defaults unless given others.
    public init(
        parameters: [(name: String, tensor: Tensor)], learningRate: Float,
        beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01
    ) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        firstMoments = parameters.map { [Float](repeating: 0, count: $0.tensor.count) }
        secondMoments = firstMoments
    }

    /// Returns whether weight decay applies to `tensor`: true for 2-D weight matrices and embedding tables.
    public static func decays(_ tensor: Tensor) -> Bool {
        tensor.rank == 2
    }

    /// Updates every parameter that has a gradient.
    ///
    /// The update of each value depends on that value alone, so all parameters are cut into chunks
    /// of up to `updateChunk` values that the cores share in one parallel call.
    public func step() {
        stepCount += 1
        let correction1 = 1 - Float(Foundation.pow(Double(beta1), Double(stepCount)))
        let correction2 = 1 - Float(Foundation.pow(Double(beta2), Double(stepCount)))
        let (lr, b1, b2, eps) = (learningRate, beta1, beta2, epsilon)
        let (inverse1, inverse2) = (1 / correction1, 1 / correction2)

        // NOTE: the pointers are used after their `with…BufferPointer` closures return, which Swift
        // does not promise to support. It is safe here because the mutable accesses leave each array
        // with storage of its own, `withExtendedLifetime` keeps that storage alive, and nothing
        // touches these arrays until the parallel call returns.
        var chunks: [(m: SharedPointer<Float>, v: SharedPointer<Float>, p: SharedPointer<Float>,
                      g: UnsafePointer<Float>, range: Range<Int>, decayFactor: Float)] = []
        var owners: [Tensor] = []
        for (index, parameter) in parameters.enumerated() {
            let tensor = parameter.tensor
            guard tensor.grad != nil else { continue }
            owners.append(tensor)
            let decayFactor = AdamW.decays(tensor) ? 1 - lr * weightDecay : 1
            let m = firstMoments[index].withUnsafeMutableBufferPointer { SharedPointer(base: $0.baseAddress!) }
            let v = secondMoments[index].withUnsafeMutableBufferPointer { SharedPointer(base: $0.baseAddress!) }
            let p = tensor.data.withUnsafeMutableBufferPointer { SharedPointer(base: $0.baseAddress!) }
            let g = tensor.grad!.withUnsafeBufferPointer { $0.baseAddress! }
            for range in chunkRanges(count: tensor.count, size: AdamW.updateChunk) {
                chunks.append((m, v, p, g, range, decayFactor))
            }
        }
        withExtendedLifetime((owners, firstMoments, secondMoments)) {
            parallelFor(iterations: chunks.count) { index in
                let chunk = chunks[index]
                let (m, v, p, g) = (chunk.m.base, chunk.v.base, chunk.p.base, chunk.g)
                for i in chunk.range {
                    let gradient = g[i]
                    let first = b1 * m[i] + (1 - b1) * gradient
                    let second = b2 * v[i] + (1 - b2) * gradient * gradient
                    m[i] = first
                    v[i] = second
                    let update = (first * inverse1) / ((second * inverse2).squareRoot() + eps)
                    p[i] = p[i] * chunk.decayFactor - lr * update
                }
            }
        }
    }

    /// Values that one task of `step()` updates: 16,384, a few microseconds of work.
    private static let updateChunk = 16_384

    /// Returns the moment estimates and step count as named arrays for a checkpoint.
    public func state() -> [NamedArray] {
        var arrays: [NamedArray] = [NamedArray(name: "step", shape: [], values: [Float(stepCount)])]
        for (index, parameter) in parameters.enumerated() {
            arrays.append(NamedArray(name: "m.\(parameter.name)", shape: parameter.tensor.shape, values: firstMoments[index]))
            arrays.append(NamedArray(name: "v.\(parameter.name)", shape: parameter.tensor.shape, values: secondMoments[index]))
        }
        return arrays
    }

    /// Restores a state saved by `state()`; throws when a parameter's entry is missing or has another shape.
    public func loadState(_ arrays: [NamedArray]) throws {
        var byName: [String: NamedArray] = [:]
        for array in arrays { byName[array.name] = array }
        guard let step = byName["step"], step.values.count == 1 else {
            throw CheckpointError("optimizer state has no step count; the file is not an AdamW state saved by this program")
        }
        let savedStep = step.values[0]
        guard savedStep.isFinite, savedStep >= 0, savedStep < 1e15, savedStep == savedStep.rounded() else {
            throw CheckpointError("optimizer state has step count \(savedStep); it must be a whole number of at least 0, so the file is damaged")
        }
        var first = firstMoments, second = secondMoments
        for (index, parameter) in parameters.enumerated() {
            for (prefix, isFirst) in [("m.", true), ("v.", false)] {
                let name = prefix + parameter.name
                guard let array = byName[name] else {
                    throw CheckpointError("optimizer state has no entry \(name); it was saved for a different model")
                }
                guard array.shape == parameter.tensor.shape else {
                    throw CheckpointError("optimizer state \(name) has shape \(array.shape), the model needs \(parameter.tensor.shape)")
                }
                guard array.values.count == parameter.tensor.count else {
                    throw CheckpointError("optimizer state \(name) has \(array.values.count) values for shape \(array.shape); the file is damaged")
                }
                if isFirst { first[index] = array.values } else { second[index] = array.values }
            }
        }
        firstMoments = first
        secondMoments = second
        stepCount = Int(savedStep)
    }
}

/// The global L2 norm of the gradients was infinite or NaN, so clipping cannot rescale them.
public struct NonFiniteGradientError: Error, CustomStringConvertible {
    /// The norm that was found.
    public let norm: Float

    /// Creates the error for a norm that is infinite or NaN.
    public init(norm: Float) {
        self.norm = norm
    }

    public var description: String {
        "the gradient norm is \(norm); training has diverged (try a lower learning rate)"
    }
}

/// Rescales the gradients of `parameters` so that their global L2 norm is at most `maxNorm`,
/// as `torch.nn.utils.clip_grad_norm_`. Returns the norm before clipping.
/// - Throws: `NonFiniteGradientError` when the norm is infinite or NaN; gradients are left unchanged.
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maxNorm: Float) throws -> Float {
    let norm = gradientNorm(parameters)
    guard norm.isFinite else { throw NonFiniteGradientError(norm: norm) }
    // PyTorch adds 1e-6 to the denominator; the same keeps results comparable.
    let scale = maxNorm / (norm + 1e-6)
    if scale < 1 {
        for parameter in parameters where parameter.grad != nil {
            parameter.accumulateGrad { g in
                for i in 0..<g.count { g[i] *= scale }
            }
        }
    }
    return norm
}

/// Returns the global L2 norm of all gradients, √(Σ g²), accumulated in `Double`.
///
/// The gradients are cut into chunks of `normChunk` values, and the cores sum the chunks in
/// parallel. The chunk sums are then added in order, so the result does not depend on the number
/// of cores.
public func gradientNorm(_ parameters: [Tensor]) -> Float {
    let gradients = parameters.compactMap(\.grad)
    var chunks: [(gradient: Int, range: Range<Int>)] = []
    for (index, gradient) in gradients.enumerated() {
        for range in chunkRanges(count: gradient.count, size: normChunk) {
            chunks.append((index, range))
        }
    }
    var sums = [Double](repeating: 0, count: chunks.count)
    sums.withUnsafeMutableBufferPointer { sums in
        let output = SharedPointer(base: sums.baseAddress!)
        parallelFor(iterations: chunks.count) { index in
            let chunk = chunks[index]
            output.base[index] = gradients[chunk.gradient].withUnsafeBufferPointer { values in
                sumOfSquares(values.baseAddress! + chunk.range.lowerBound, count: chunk.range.count)
            }
        }
    }
    var total: Double = 0
    for sum in sums { total += sum }
    return Float(total.squareRoot())
}

/// Values whose squares one task of `gradientNorm` adds up.
private let normChunk = 16_384

/// Returns Σ x² of `count` floats, in `Double`, with eight lanes so that the adds overlap.
private func sumOfSquares(_ values: UnsafePointer<Float>, count: Int) -> Double {
    var lanes = SIMD8<Double>()
    var index = 0
    while index + 8 <= count {
        let x = SIMD8<Double>(UnsafeRawPointer(values + index).loadUnaligned(as: SIMD8<Float>.self))
        lanes = lanes.addingProduct(x, x)
        index += 8
    }
    var total = lanes.sum()
    while index < count {
        total += Double(values[index]) * Double(values[index])
        index += 1
    }
    return total
}
