import Foundation
import Testing
@testable import Tensor

// Every differentiable operation's backward pass, compared with central finite differences of
// its forward pass.

/// The comparison of one input's autodiff gradient with its central-difference estimate, at the
/// element where they disagree most relative to the allowed error.
struct GradientComparison {
    /// The position of the input in the list passed to the checker.
    var input: Int
    /// The element with the largest error ratio.
    var index: Int
    /// The gradient from `backward`.
    var autodiff: Double
    /// The central-difference estimate.
    var numeric: Double
    /// |autodiff − numeric| divided by the allowed error; above 1 is a mismatch.
    var errorRatio: Double
}

/// Central-difference gradient checking for functions evaluated in `Float`.
///
/// The function maps the inputs to one or more output tensors. Each output is contracted with fixed
/// random weights w (magnitudes in [0.5, 1.5], random signs), so the checked scalar is
/// L = Σ w ⊙ output. The weights are the upstream gradient: autodiff runs `backward(seed: w)`. A
/// backward pass that sends gradient to the wrong element cannot pass by symmetry, as it could under
/// the uniform upstream gradient of `sum()`. The finite differences contract in `Double`, so the
/// contraction adds no rounding of its own.
///
/// Step and tolerance. The estimate (L(x + h) − L(x − h)) / 2h has two errors:
/// - truncation, h²/6 · |L'''|. With h = 5e-3 that is 4.2e-6 · |L'''|. The largest third
///   derivative here is that of a/b with |b| ≥ 0.5, 6|a|/b⁴ ≤ 96|a|, which gives about 4e-4 · |a|.
/// - rounding. Each output value is off by about u · |output|, where u = 2⁻²⁴ ≈ 6e-8, so L is off by
///   at most u · S with S = Σ |w ⊙ output| ≤ `maximumOutputMagnitude` = 128. Two such errors divided
///   by 2h = 1e-2 give at most 2 · 6e-8 · 128 / 1e-2 = 1.5e-3, if every rounding went the same way.
///   Independent roundings add like a random walk instead, to about u · √(Σ (w ⊙ output)²), under
///   1e-6 for the ≤ 120 outputs of these tests, which is 1e-4 in the quotient.
/// h = 5e-3 balances the two. Measured on these tests, the largest error was 4e-4 at h = 5e-3,
/// 1.4e-3 at h = 1e-2 (truncation, growing as h²) and 9e-4 at h = 1e-3 (rounding, growing as 1/h).
/// A mismatch is |autodiff − numeric| > 1e-3 + 1e-3 · |numeric|, so an error of 1% in a gradient
/// of 0.2 or more is caught. Inputs sit at least 0.1 away from kinks and poles, so a step never
/// crosses one. The perturbed values x ± h are rounded to `Float`, so the quotient divides by the
/// difference actually applied rather than by 2h.
enum GradientCheck {
    /// The finite-difference step h.
    static let step: Float = 5e-3
    /// The absolute part of the allowed error.
    static let absoluteTolerance = 1e-3
    /// The part of the allowed error proportional to the size of the gradient.
    static let relativeTolerance = 1e-3
    /// The largest Σ |w ⊙ output| for which the rounding bound above holds.
    static let maximumOutputMagnitude = 128.0

    /// Returns the upstream weights for an output of `count` values.
    static func weights(count: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            let magnitude = 0.5 + generator.nextUniform()
            return generator.nextUniform() < 0.5 ? -magnitude : magnitude
        }
    }

    /// Compares the autodiff gradient of every input with central differences. Returns, for each
    /// input, the element that disagrees most, and Σ |w ⊙ output| at the unperturbed inputs.
    ///
    /// Each output is sent back with its own `backward(seed:)`, so outputs must not share recorded
    /// intermediate tensors: the first backward pass releases the graph it walks.
    static func compare(
        _ inputs: [Tensor], weightSeed: UInt64 = 99, _ function: ([Tensor]) -> [Tensor]
    ) -> (comparisons: [GradientComparison], outputMagnitude: Double) {
        for input in inputs {
            input.requiresGrad = true
            input.zeroGrad()
        }

        let outputs = function(inputs)
        let weights = outputs.enumerated().map { index, output in
            GradientCheck.weights(count: output.count, seed: weightSeed &+ UInt64(index))
        }
        var outputMagnitude: Double = 0
        for (output, weight) in zip(outputs, weights) {
            for (value, w) in zip(output.data, weight) { outputMagnitude += abs(Double(value) * Double(w)) }
            // An output without a graph leaves the inputs' gradients nil, which counts as a mismatch below.
            output.backward(seed: weight)
        }

        // L = Σ w ⊙ output, contracted in Double and evaluated without recording a graph.
        func loss() -> Double {
            Tensor.withoutGradients {
                let outputs = function(inputs)
                var total: Double = 0
                for (output, weight) in zip(outputs, weights) {
                    for (value, w) in zip(output.data, weight) { total += Double(value) * Double(w) }
                }
                return total
            }
        }

        var comparisons: [GradientComparison] = []
        for (inputIndex, input) in inputs.enumerated() {
            let autodiff = input.grad ?? [Float](repeating: .nan, count: input.count)
            var worst = GradientComparison(input: inputIndex, index: -1, autodiff: 0, numeric: 0, errorRatio: -1)
            for i in 0..<input.count {
                let original = input.data[i]
                let plus = original + step
                let minus = original - step
                input.data[i] = plus
                let lossPlus = loss()
                input.data[i] = minus
                let lossMinus = loss()
                input.data[i] = original

                let numeric = (lossPlus - lossMinus) / (Double(plus) - Double(minus))
                let analytic = Double(autodiff[i])
                let allowed = absoluteTolerance + relativeTolerance * abs(numeric)
                // A NaN (missing or non-finite) gradient counts as an infinite error.
                let difference = abs(analytic - numeric)
                let ratio = difference.isNaN ? .infinity : difference / allowed
                if ratio > worst.errorRatio {
                    worst = GradientComparison(input: inputIndex, index: i, autodiff: analytic, numeric: numeric, errorRatio: ratio)
                }
            }
            comparisons.append(worst)
        }
        return (comparisons, outputMagnitude)
    }
}

/// Expects every input's autodiff gradient to match central differences (see `GradientCheck`).
func expectGradientsMatch(
    _ inputs: [Tensor], sourceLocation: SourceLocation = #_sourceLocation,
    _ function: ([Tensor]) -> [Tensor]
) {
    let (comparisons, outputMagnitude) = GradientCheck.compare(inputs, function)
    #expect(
        outputMagnitude <= GradientCheck.maximumOutputMagnitude,
        "Σ |w ⊙ output| is \(outputMagnitude), above the \(GradientCheck.maximumOutputMagnitude) the tolerance assumes; use smaller inputs",
        sourceLocation: sourceLocation)
    for comparison in comparisons {
        #expect(
            inputs[comparison.input].grad != nil,
            "input \(comparison.input) received no gradient", sourceLocation: sourceLocation)
        #expect(
            comparison.errorRatio <= 1,
            """
            input \(comparison.input) (shape \(inputs[comparison.input].shape)) element \(comparison.index): \
            autodiff \(comparison.autodiff), central difference \(comparison.numeric)
            """,
            sourceLocation: sourceLocation)
    }
}

/// Expects the gradient of a function with one output to match central differences.
func expectGradientsMatch(
    _ inputs: [Tensor], sourceLocation: SourceLocation = #_sourceLocation,
    _ function: ([Tensor]) -> Tensor
) {
    expectGradientsMatch(inputs, sourceLocation: sourceLocation) { [function($0)] }
}

// MARK: - The checker itself

@Suite("Gradient checker")
struct GradientCheckerTests {
    /// Returns x² with a backward pass that uses `factor` · x in place of 2x.
    static func squareWithDerivative(_ x: Tensor, factor: Float) -> Tensor {
        Tensor.result(shape: x.shape, data: x.data.map { $0 * $0 }, parents: [x]) { output in
            x.accumulateGrad(adding: zip(output.grad!, x.data).map { g, value in g * factor * value })
        }
    }

    @Test("accepts a correct derivative")
    func acceptsCorrect() {
        let x = randomTensor([3, 4], seed: 1)
        let (comparisons, _) = GradientCheck.compare([x]) { [Self.squareWithDerivative($0[0], factor: 2)] }
        #expect(comparisons.count == 1)
        #expect(comparisons[0].errorRatio <= 1)
    }

    @Test("rejects a derivative 2% too large")
    func rejectsTwoPercent() {
        // Inputs of magnitude at least 0.5 make gradients of at least 2 · 0.5 · 0.5 = 0.5, so a 2%
        // error is at least 1e-2, well above the allowed 1e-3 + 1e-3 · 0.5.
        let x = randomTensor([3, 4], seed: 1, magnitudes: 0.5...2)
        let (comparisons, _) = GradientCheck.compare([x]) { [Self.squareWithDerivative($0[0], factor: 2.04)] }
        #expect(comparisons[0].errorRatio > 1)
    }

    @Test("rejects a gradient sent to the wrong element")
    func rejectsPermutedGradient() {
        // Under a uniform upstream gradient a reversed gradient would pass for x + 0; the random
        // upstream weights expose it.
        let x = randomTensor([6], seed: 2)
        let (comparisons, _) = GradientCheck.compare([x]) { inputs in
            let input = inputs[0]
            return [Tensor.result(shape: input.shape, data: input.data, parents: [input]) { output in
                input.accumulateGrad(adding: output.grad!.reversed())
            }]
        }
        #expect(comparisons[0].errorRatio > 1)
    }

    @Test("rejects a missing gradient")
    func rejectsMissingGradient() {
        let x = randomTensor([4], seed: 3)
        let (comparisons, _) = GradientCheck.compare([x]) { inputs in
            let input = inputs[0]
            return [Tensor.result(shape: input.shape, data: input.data.map { 2 * $0 }, parents: [input]) { _ in }]
        }
        #expect(comparisons[0].errorRatio > 1)
    }
}

// MARK: - Arithmetic

@Suite("Gradients of arithmetic")
struct ArithmeticGradientTests {
    @Test("add, same shape")
    func addSameShape() {
        expectGradientsMatch([randomTensor([2, 3], seed: 1), randomTensor([2, 3], seed: 2)]) { $0[0] + $0[1] }
    }

    @Test("add, bias [C] on [B, T, C]")
    func addBias() {
        expectGradientsMatch([randomTensor([2, 3, 4], seed: 1), randomTensor([4], seed: 2)]) { $0[0] + $0[1] }
        // The broadcast operand on the left.
        expectGradientsMatch([randomTensor([4], seed: 3), randomTensor([2, 3, 4], seed: 4)]) { $0[0] + $0[1] }
    }

    @Test("add, [B, 1, C] on [B, T, C]")
    func addMiddleBroadcast() {
        expectGradientsMatch([randomTensor([2, 3, 4], seed: 1), randomTensor([2, 1, 4], seed: 2)]) { $0[0] + $0[1] }
    }

    @Test("add, [3, 1] and [1, 4] both broadcast")
    func addBothBroadcast() {
        expectGradientsMatch([randomTensor([3, 1], seed: 1), randomTensor([1, 4], seed: 2)]) { $0[0] + $0[1] }
    }

    @Test("add, scalar tensor [] on [2, 3]")
    func addScalarTensor() {
        expectGradientsMatch([randomTensor([2, 3], seed: 1), randomTensor([], seed: 2)]) { $0[0] + $0[1] }
    }

    @Test("subtract, same shape and broadcast")
    func subtract() {
        expectGradientsMatch([randomTensor([2, 3], seed: 1), randomTensor([2, 3], seed: 2)]) { $0[0] - $0[1] }
        expectGradientsMatch([randomTensor([2, 3, 4], seed: 3), randomTensor([4], seed: 4)]) { $0[0] - $0[1] }
        expectGradientsMatch([randomTensor([2, 1, 4], seed: 5), randomTensor([2, 3, 4], seed: 6)]) { $0[0] - $0[1] }
    }

    @Test("multiply, same shape and broadcast")
    func multiply() {
        expectGradientsMatch([randomTensor([2, 3], seed: 1), randomTensor([2, 3], seed: 2)]) { $0[0] * $0[1] }
        expectGradientsMatch([randomTensor([2, 3, 4], seed: 3), randomTensor([4], seed: 4)]) { $0[0] * $0[1] }
        expectGradientsMatch([randomTensor([2, 1, 4], seed: 5), randomTensor([2, 3, 4], seed: 6)]) { $0[0] * $0[1] }
        expectGradientsMatch([randomTensor([3, 1], seed: 7), randomTensor([1, 4], seed: 8)]) { $0[0] * $0[1] }
    }

    @Test("multiply, one operand requires no gradient")
    func multiplyConstant() {
        let constant = randomTensor([2, 3, 4], seed: 2)
        expectGradientsMatch([randomTensor([4], seed: 1)]) { $0[0] * constant }
        #expect(constant.grad == nil)
    }

    @Test("divide, same shape and broadcast")
    func divide() {
        // Denominators have magnitude at least 0.5, so the step of 1e-2 stays far from the pole at 0.
        expectGradientsMatch([randomTensor([2, 3], seed: 1), randomTensor([2, 3], seed: 2, magnitudes: 0.5...2)]) { $0[0] / $0[1] }
        expectGradientsMatch([randomTensor([2, 3, 4], seed: 3), randomTensor([4], seed: 4, magnitudes: 0.5...2)]) { $0[0] / $0[1] }
        expectGradientsMatch([randomTensor([4], seed: 5), randomTensor([2, 3, 4], seed: 6, magnitudes: 0.5...2)]) { $0[0] / $0[1] }
        expectGradientsMatch([randomTensor([2, 3, 4], seed: 7), randomTensor([2, 1, 4], seed: 8, magnitudes: 0.5...2)]) { $0[0] / $0[1] }
    }

    @Test("operations with a Float constant")
    func scalarOperations() {
        // Each output depends on the leaf only, so they can be sent back one after another.
        expectGradientsMatch([randomTensor([2, 3], seed: 1)]) { inputs in
            let x = inputs[0]
            return [x + 2.5, x - 1.5, x * 3, -0.5 * x, x / 4, -x]
        }
    }
}

// MARK: - Element-wise functions

@Suite("Gradients of element-wise functions")
struct ActivationGradientTests {
    @Test("exp")
    func exp() {
        expectGradientsMatch([randomTensor([2, 5], seed: 1)]) { $0[0].exp() }
    }

    @Test("log")
    func log() {
        expectGradientsMatch([randomTensor([2, 5], seed: 1, magnitudes: 0.5...3, signed: false)]) { $0[0].log() }
    }

    @Test("tanh")
    func tanh() {
        expectGradientsMatch([randomTensor([2, 5], seed: 1, std: 1.5)]) { $0[0].tanh() }
    }

    @Test("squared")
    func squared() {
        expectGradientsMatch([randomTensor([2, 5], seed: 1)]) { $0[0].squared() }
    }

    @Test("relu away from 0")
    func relu() {
        // Magnitudes of at least 0.1 keep x ± 1e-2 on one side of the kink.
        let x = randomTensor([3, 6], seed: 1, magnitudes: 0.1...2)
        #expect(x.data.contains { $0 < 0 }, "some inputs are negative")
        #expect(x.data.contains { $0 > 0 }, "some inputs are positive")
        expectGradientsMatch([x]) { $0[0].relu() }
    }

    @Test("gelu")
    func gelu() {
        expectGradientsMatch([randomTensor([3, 6], seed: 1, std: 2)]) { $0[0].gelu() }
    }
}

// MARK: - Reductions

@Suite("Gradients of reductions")
struct ReductionGradientTests {
    @Test("sum and mean of all values")
    func sumAndMean() {
        expectGradientsMatch([randomTensor([2, 3, 4], seed: 1)]) { $0[0].sum() }
        expectGradientsMatch([randomTensor([2, 3, 4], seed: 2)]) { $0[0].mean() }
    }

    @Test("sum along an axis", arguments: [0, 1, 2, -1], [false, true])
    func sumAlongAxis(axis: Int, keepingDimension: Bool) {
        let x = randomTensor([2, 3, 4], seed: 1)
        expectGradientsMatch([x]) { $0[0].sum(alongAxis: axis, keepingDimension: keepingDimension) }
    }

    @Test("mean along an axis", arguments: [0, 1, 2, -1], [false, true])
    func meanAlongAxis(axis: Int, keepingDimension: Bool) {
        let x = randomTensor([2, 3, 4], seed: 1)
        expectGradientsMatch([x]) { $0[0].mean(alongAxis: axis, keepingDimension: keepingDimension) }
    }

    @Test("input minus its mean")
    func centred() {
        // x − mean(x) along the last axis, the first step of LayerNorm built from primitives.
        expectGradientsMatch([randomTensor([2, 3, 4], seed: 1)]) { inputs in
            let x = inputs[0]
            return x - x.mean(alongAxis: -1, keepingDimension: true)
        }
    }
}

// MARK: - Shape operations

@Suite("Gradients of shape operations")
struct ShapeGradientTests {
    @Test("reshaped")
    func reshaped() {
        expectGradientsMatch([randomTensor([2, 3, 4], seed: 1)]) { $0[0].reshaped([4, -1]) }
    }

    @Test("permuted")
    func permuted() {
        expectGradientsMatch([randomTensor([2, 3, 4], seed: 1)]) { $0[0].permuted([2, 0, 1]) }
        expectGradientsMatch([randomTensor([2, 3, 4, 5], seed: 2)]) { $0[0].permuted([0, 2, 1, 3]) }
    }

    @Test("transposed")
    func transposed() {
        expectGradientsMatch([randomTensor([2, 3, 4], seed: 1)]) { $0[0].transposed(0, 2) }
        expectGradientsMatch([randomTensor([2, 3, 4], seed: 2)]) { $0[0].transposed(-1, -2) }
    }

    @Test("split along the last axis")
    func split() {
        expectGradientsMatch([randomTensor([2, 3, 6], seed: 1)]) { $0[0].split(lastAxisSizes: [2, 3, 1]) }
    }

    @Test("split with only some pieces used")
    func splitPartlyUsed() {
        // The unused middle piece sends no gradient, so those columns get exactly 0.
        let x = randomTensor([2, 6], seed: 1)
        expectGradientsMatch([x]) { inputs in
            let pieces = inputs[0].split(lastAxisSizes: [2, 3, 1])
            return [pieces[0], pieces[2]]
        }
        for row in 0..<2 {
            for column in 2..<5 {
                #expect(x.grad?[row * 6 + column] == 0)
            }
        }
    }

    @Test("concatenated along the last axis")
    func concatenate() {
        let inputs = [randomTensor([2, 3, 2], seed: 1), randomTensor([2, 3, 1], seed: 2), randomTensor([2, 3, 3], seed: 3)]
        expectGradientsMatch(inputs) { Tensor.concatenate(lastAxis: $0) }
    }
}

// MARK: - Matrix multiplication

@Suite("Gradients of matmul")
struct MatMulGradientTests {
    static let transposeModes = [(false, false), (true, false), (false, true), (true, true)]

    @Test("2-D", arguments: transposeModes)
    func twoDimensional(transposeA: Bool, transposeB: Bool) {
        // op(A) is [3, 4] and op(B) is [4, 5]; no dimension repeats, so a mixed-up transpose
        // would trap on shapes or give wrong values.
        let a = randomTensor(transposeA ? [4, 3] : [3, 4], seed: 1)
        let b = randomTensor(transposeB ? [5, 4] : [4, 5], seed: 2)
        expectGradientsMatch([a, b]) { Tensor.matmul($0[0], $0[1], transposeA: transposeA, transposeB: transposeB) }
    }

    @Test("[B, T, C] × [C, D]")
    func batchedLeft() {
        expectGradientsMatch([randomTensor([2, 3, 4], seed: 1), randomTensor([4, 5], seed: 2)]) {
            Tensor.matmul($0[0], $0[1])
        }
    }

    @Test("[B, T, C] × [D, C]ᵀ, a linear layer")
    func batchedLeftTransposedRight() {
        expectGradientsMatch([randomTensor([2, 3, 4], seed: 1), randomTensor([5, 4], seed: 2)]) {
            Tensor.matmul($0[0], $0[1], transposeB: true)
        }
    }

    @Test("batched 4-D", arguments: transposeModes)
    func batchedFourDimensional(transposeA: Bool, transposeB: Bool) {
        // [B, numHeads, ...] = [2, 2, ...]; op(A) is [3, 4] and op(B) is [4, 5] in each batch.
        let a = randomTensor(transposeA ? [2, 2, 4, 3] : [2, 2, 3, 4], seed: 1)
        let b = randomTensor(transposeB ? [2, 2, 5, 4] : [2, 2, 4, 5], seed: 2)
        expectGradientsMatch([a, b]) { Tensor.matmul($0[0], $0[1], transposeA: transposeA, transposeB: transposeB) }
    }

    @Test("batched 3-D attention scores q · kᵀ")
    func attentionScores() {
        expectGradientsMatch([randomTensor([2, 4, 3], seed: 1), randomTensor([2, 4, 3], seed: 2)]) {
            Tensor.matmul($0[0], $0[1], transposeB: true)
        }
    }
}

// MARK: - Embedding, masking, softmax and losses

@Suite("Gradients of embedding, softmax and losses")
struct LookupAndSoftmaxGradientTests {
    @Test("embedding with a repeated id")
    func embedding() {
        // Id 1 appears three times and id 2 never: row 1 gets three contributions, row 2 none.
        let ids = [1, 3, 1, 0, 4, 1]
        let table = randomTensor([5, 3], seed: 1)
        expectGradientsMatch([table]) { Tensor.embedding($0[0], ids: ids, idsShape: [2, 3]) }
        #expect(table.grad.map { Array($0[6..<9]) } == [0, 0, 0])
    }

    @Test("causalMasked with a finite fill")
    func causalMasked() {
        expectGradientsMatch([randomTensor([2, 3, 3], seed: 1)]) { $0[0].causalMasked(fill: -2.5) }
    }

    @Test("softmax")
    func softmax() {
        expectGradientsMatch([randomTensor([2, 3, 5], seed: 1, std: 2)]) { $0[0].softmax() }
    }

    @Test("logSoftmax")
    func logSoftmax() {
        expectGradientsMatch([randomTensor([2, 3, 5], seed: 1, std: 2)]) { $0[0].logSoftmax() }
    }

    @Test("causalSoftmax with a scale")
    func causalSoftmax() {
        expectGradientsMatch([randomTensor([2, 2, 4, 4], seed: 1, std: 2)]) { $0[0].causalSoftmax(scale: 0.5) }
    }

    @Test("crossEntropy")
    func crossEntropy() {
        let targets = [0, 4, 2, 2, 1, 3]
        expectGradientsMatch([randomTensor([2, 3, 5], seed: 1, std: 2)]) {
            Tensor.crossEntropy(logits: $0[0], targets: targets)
        }
    }

    @Test("layerNorm with bias")
    func layerNormWithBias() {
        let inputs = [randomTensor([2, 3, 6], seed: 1), randomTensor([6], seed: 2), randomTensor([6], seed: 3)]
        expectGradientsMatch(inputs) { Tensor.layerNorm($0[0], gain: $0[1], bias: $0[2]) }
    }

    @Test("layerNorm, rows of 19")
    func layerNormWide() {
        // 19 values per row: two 8-lane blocks and a tail of 3, in case the kernel is vectorised.
        let inputs = [randomTensor([2, 19], seed: 1), randomTensor([19], seed: 2), randomTensor([19], seed: 3)]
        expectGradientsMatch(inputs) { Tensor.layerNorm($0[0], gain: $0[1], bias: $0[2]) }
    }

    @Test("softmax and crossEntropy, rows of 19")
    func softmaxWide() {
        expectGradientsMatch([randomTensor([2, 19], seed: 1, std: 2)]) { $0[0].softmax() }
        expectGradientsMatch([randomTensor([3, 19], seed: 2, std: 2)]) { Tensor.crossEntropy(logits: $0[0], targets: [0, 18, 7]) }
    }

    @Test("layerNorm without bias")
    func layerNormWithoutBias() {
        let inputs = [randomTensor([2, 3, 6], seed: 1), randomTensor([6], seed: 2)]
        expectGradientsMatch(inputs) { Tensor.layerNorm($0[0], gain: $0[1], bias: nil) }
    }

    @Test("dropout with a reseeded generator")
    func dropout() {
        // The generator is recreated from the same seed at every evaluation, so each finite
        // difference uses the same mask as the backward pass.
        let x = randomTensor([4, 6], seed: 1)
        var generator = SeededGenerator(seed: 5)
        let dropped = x.dropout(probability: 0.25, generator: &generator).data.filter { $0 == 0 }.count
        #expect(dropped > 0, "the mask drops some values, dropped \(dropped) of 24")
        #expect(dropped < 24, "the mask keeps some values, dropped \(dropped) of 24")

        expectGradientsMatch([x]) { inputs in
            var generator = SeededGenerator(seed: 5)
            return inputs[0].dropout(probability: 0.25, generator: &generator)
        }
    }
}

// MARK: - A composed graph

@Suite("Gradient of a composed graph")
struct ComposedGradientTests {
    @Test("tiny transformer block and loss")
    func tinyTransformer() {
        // B = 2, T = 3, C = 4, two heads of size 2, vocabulary 5, MLP width 8. The output head
        // reuses the token table (weight tying), so that table gets gradient from both ends.
        let (batch, time, channels, heads, vocabulary, hidden) = (2, 3, 4, 2, 5, 8)
        let headSize = channels / heads
        let ids = [0, 3, 1, 4, 4, 2]
        let targets = [3, 1, 2, 4, 2, 0]
        let inputs = [
            randomTensor([vocabulary, channels], seed: 1, std: 0.5),  // 0: token table
            randomTensor([time, channels], seed: 2, std: 0.5),  // 1: positions
            randomTensor([channels], seed: 3, magnitudes: 0.5...1.5),  // 2: LayerNorm gain
            randomTensor([channels], seed: 4, std: 0.1),  // 3: LayerNorm bias
            randomTensor([3 * channels, channels], seed: 5, std: 0.5),  // 4: query/key/value weight
            randomTensor([3 * channels], seed: 6, std: 0.1),  // 5: query/key/value bias
            randomTensor([channels, channels], seed: 7, std: 0.5),  // 6: attention output weight
            randomTensor([hidden, channels], seed: 8, std: 0.5),  // 7: MLP input weight
            randomTensor([channels, hidden], seed: 9, std: 0.5),  // 8: MLP output weight
        ]

        expectGradientsMatch(inputs) { p in
            let tokens = Tensor.embedding(p[0], ids: ids, idsShape: [batch, time])
            let x = tokens + p[1]

            // Attention: [B, T, 3C] → three [B, T, C] → [B, heads, T, headSize] each.
            let normalized = Tensor.layerNorm(x, gain: p[2], bias: p[3])
            let qkv = Tensor.matmul(normalized, p[4], transposeB: true) + p[5]
            let parts = qkv.split(lastAxisSizes: [channels, channels, channels]).map {
                $0.reshaped([batch, time, heads, headSize]).permuted([0, 2, 1, 3])
            }
            let scores = Tensor.matmul(parts[0], parts[1], transposeB: true)
            let attention = scores.causalSoftmax(scale: 1 / Float(headSize).squareRoot())
            let mixed = Tensor.matmul(attention, parts[2]).permuted([0, 2, 1, 3]).reshaped([batch, time, channels])
            let afterAttention = x + Tensor.matmul(mixed, p[6], transposeB: true)

            // MLP with a residual connection, sharing the LayerNorm parameters.
            let hiddenValues = Tensor.matmul(Tensor.layerNorm(afterAttention, gain: p[2], bias: p[3]), p[7], transposeB: true).gelu()
            let output = afterAttention + Tensor.matmul(hiddenValues, p[8], transposeB: true)

            let logits = Tensor.matmul(output, p[0], transposeB: true)
            return Tensor.crossEntropy(logits: logits, targets: targets)
        }
    }
}
