import Foundation
import Testing
@testable import Tensor

// Gradient clipping, SGD and AdamW, each step worked out by hand.

/// Returns a tensor that requires a gradient and already has the gradient `grad`.
private func parameter(_ shape: [Int], _ values: [Float], grad: [Float]?) -> Tensor {
    let tensor = Tensor(shape: shape, data: values, requiresGrad: true)
    tensor.grad = grad
    return tensor
}

@Suite("Gradient clipping")
struct GradientClippingTests {
    @Test("clips a norm of 5 down to 1")
    func clipsToMaxNorm() throws {
        // Gradients [3] and [4] have global norm √(9 + 16) = 5. Clipping to 1 scales both by
        // 1/(5 + 1e-6) ≈ 0.2, giving [0.6] and [0.8], and returns the norm before clipping.
        let a = parameter([1], [0], grad: [3])
        let b = parameter([1], [0], grad: [4])
        let norm = try clipGradientNorm([a, b], maxNorm: 1)
        #expect(norm == 5)
        // The 1e-6 in the denominator shrinks the result by a factor 1 − 2e-7.
        #expect(abs(a.grad![0] - 0.6) <= 3e-7)
        #expect(abs(b.grad![0] - 0.8) <= 3e-7)
        #expect(abs(gradientNorm([a, b]) - 1) <= 3e-7)
    }

    @Test("leaves gradients below the maximum unchanged")
    func belowMaximum() throws {
        let a = parameter([1], [0], grad: [3])
        let b = parameter([1], [0], grad: [4])
        let norm = try clipGradientNorm([a, b], maxNorm: 10)
        #expect(norm == 5)
        #expect(a.grad == [3])
        #expect(b.grad == [4])
    }

    @Test("clips across tensors, skipping missing gradients")
    func severalValues() throws {
        // [1, 2] and [2, 4] give √(1 + 4 + 4 + 16) = 5; a tensor without a gradient adds nothing.
        let a = parameter([2], [0, 0], grad: [1, 2])
        let b = parameter([2, 1], [0, 0], grad: [2, 4])
        let none = parameter([3], [0, 0, 0], grad: nil)
        let norm = try clipGradientNorm([a, none, b], maxNorm: 2.5)
        #expect(norm == 5)
        // The scale 2.5/(5 + 1e-6) is 2e-7 below 1/2 relative, 4e-7 on the value 2.
        expectClose(a.grad ?? [], [0.5, 1], tolerance: 6e-7)
        expectClose(b.grad ?? [], [1, 2], tolerance: 6e-7)
        #expect(none.grad == nil)
    }

    @Test("norm over gradients longer than one chunk")
    func normOfLongGradients() {
        // 40,000 and 16,385 values span several of the chunks the cores share, and 5 values fewer
        // than one. The reference adds the squares one by one in Double.
        let sizes = [40_000, 5, 16_385]
        var reference: Double = 0
        let tensors = sizes.enumerated().map { position, size in
            let gradient = (0..<size).map { Float(($0 * 37 + position) % 101) / 50 - 1 }
            for value in gradient { reference += Double(value) * Double(value) }
            return parameter([size], [Float](repeating: 0, count: size), grad: gradient)
        }
        let expected = reference.squareRoot()
        // Both sums are exact to about 1e-12 relative in Double; the result is rounded to Float.
        #expect(abs(Double(gradientNorm(tensors)) / expected - 1) <= 1e-7)
    }

    @Test("norm is accumulated in Double")
    func normWithoutOverflow() {
        // 3e19² = 9e38 overflows Float (max 3.4e38) but not Double; the norm is 5e19.
        let a = parameter([2], [0, 0], grad: [3e19, 4e19])
        #expect(abs(gradientNorm([a]) / 5e19 - 1) <= 1e-6)
    }

    @Test("non-finite norm throws, gradients kept", arguments: [Float.nan, .infinity, -.infinity])
    func nonFinite(bad: Float) {
        let a = parameter([2], [0, 0], grad: [1, bad])
        let b = parameter([1], [0], grad: [4])
        #expect(throws: NonFiniteGradientError.self) {
            try clipGradientNorm([a, b], maxNorm: 1)
        }
        #expect(a.grad?[0] == 1)
        #expect(b.grad == [4])
        if bad.isNaN {
            #expect(a.grad?[1].isNaN == true)
        } else {
            #expect(a.grad?[1] == bad)
        }
    }

    @Test("error reports the norm")
    func errorNorm() {
        let a = parameter([1], [0], grad: [.infinity])
        do {
            try clipGradientNorm([a], maxNorm: 1)
            Issue.record("clipping an infinite gradient did not throw")
        } catch let error as NonFiniteGradientError {
            #expect(error.norm == .infinity)
            #expect(error.description.contains("inf"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}

@Suite("SGD")
struct SGDTests {
    @Test("steps against the gradient")
    func step() {
        // p ← p − 0.1 · g: [1, 2] − 0.1 · [0.5, −1] = [0.95, 2.1]; a second step gives [0.9, 2.2].
        let p = parameter([2], [1, 2], grad: [0.5, -1])
        let untouched = parameter([2], [3, 4], grad: nil)
        let optimizer = SGD(parameters: [p, untouched], learningRate: 0.1)
        optimizer.step()
        expectClose(p.data, [0.95, 2.1], tolerance: 1e-7)
        #expect(untouched.data == [3, 4])
        optimizer.step()
        // One ulp of 2.2 is 2.4e-7.
        expectClose(p.data, [0.9, 2.2], tolerance: 5e-7)
    }
}

@Suite("AdamW")
struct AdamWTests {
    /// A [1, 2] weight and a [2] bias with the same values, so the only difference is weight decay.
    static func weightAndBias() -> (weight: Tensor, bias: Tensor) {
        (Tensor(shape: [1, 2], data: [1, -2], requiresGrad: true), Tensor(shape: [2], data: [1, -2], requiresGrad: true))
    }

    @Test("first step moves by the learning rate")
    func firstStepSign() {
        // At step 1, m̂ = g and v̂ = g², so the update is lr · g / (|g| + ε) ≈ lr · sign(g) for any
        // gradient size; a zero gradient gives 0. p is 1-D, so it gets no weight decay.
        let p = parameter([5], [0, 0, 0, 0, 0], grad: [1e-3, -1, 1000, -0.25, 0])
        let optimizer = AdamW(parameters: [("p", p)], learningRate: 0.01)
        optimizer.step()
        // |g| = 1e-3 gives lr · (1 − 1e-5), off by 1e-7 from lr.
        expectClose(p.data, [-0.01, 0.01, -0.01, 0.01, 0], tolerance: 2e-7)
        #expect(optimizer.stepCount == 1)
    }

    @Test("weight decay applies to 2-D weights only")
    func decayRule() {
        #expect(AdamW.decays(Tensor.zeros([3, 4])))
        #expect(!AdamW.decays(Tensor.zeros([4])))
        #expect(!AdamW.decays(Tensor.zeros([])))

        // lr = 0.1, λ = 0.5, g = [0.5, −4] for both tensors.
        // Weight [1, −2]: decay by 1 − lr·λ = 0.95 to [0.95, −1.9], then −0.1 · sign(g): [0.85, −1.8].
        // Bias [1, −2]: no decay, [1 − 0.1, −2 + 0.1] = [0.9, −1.9].
        let (weight, bias) = Self.weightAndBias()
        weight.grad = [0.5, -4]
        bias.grad = [0.5, -4]
        let optimizer = AdamW(parameters: [("weight", weight), ("bias", bias)], learningRate: 0.1, weightDecay: 0.5)
        optimizer.step()
        expectClose(weight.data, [0.85, -1.8], tolerance: 2e-7, "weight")
        expectClose(bias.data, [0.9, -1.9], tolerance: 2e-7, "bias")
    }

    @Test("second step with bias correction")
    func secondStep() {
        // Step 1 as above: m = 0.1 · g₁ = [0.05, −0.4], v = 0.001 · g₁² = [0.00025, 0.016].
        // Step 2 with g₂ = [−1, 2]:
        //   m = 0.9 · [0.05, −0.4] + 0.1 · [−1, 2] = [−0.055, −0.16]
        //   v = 0.999 · [0.00025, 0.016] + 0.001 · [1, 4] = [0.00124975, 0.019984]
        //   bias corrections 1 − 0.9² = 0.19 and 1 − 0.999² = 0.001999
        //   m̂ = [−0.28947368, −0.84210526], v̂ = [0.62518759, 9.99699850], √v̂ = [0.79068805, 3.16180935]
        //   lr · m̂/√v̂ = 0.1 · [−0.36610352, −0.26633699] = [−0.03661035, −0.02663370]
        // Weight: [0.85, −1.8] · 0.95 = [0.8075, −1.71], minus the update: [0.84411035, −1.68336630].
        // Bias: [0.9, −1.9] minus the update: [0.93661035, −1.87336630].
        let (weight, bias) = Self.weightAndBias()
        let optimizer = AdamW(parameters: [("weight", weight), ("bias", bias)], learningRate: 0.1, weightDecay: 0.5)
        for gradient: [Float] in [[0.5, -4], [-1, 2]] {
            weight.grad = gradient
            bias.grad = gradient
            optimizer.step()
        }
        #expect(optimizer.stepCount == 2)
        // The moments pass through Float subtractions like 1 − 0.9, each off by up to 2.4e-7 relative.
        expectClose(weight.data, [0.84411035, -1.68336630], tolerance: 1e-6, "weight")
        expectClose(bias.data, [0.93661035, -1.87336630], tolerance: 1e-6, "bias")
    }

    @Test("first step updates every value of large parameters")
    func firstStepLargeParameters() {
        // A [200, 201] weight (40,200 values) and a [40,000] bias span several of the chunks the
        // cores share. At step 1 each value moves by lr · g/(|g| + ε) ≈ lr · sign(g) for g ≠ 0,
        // after the weight decays by 1 − lr·λ. A value that no chunk covered would stay put.
        let (lr, decay): (Float, Float) = (0.01, 0.1)
        func gradient(_ index: Int) -> Float { Float(index % 7) - 3.5 }
        func start(_ index: Int) -> Float { Float(index % 13) / 13 }
        let weight = parameter([200, 201], (0..<40_200).map(start), grad: (0..<40_200).map(gradient))
        let bias = parameter([40_000], (0..<40_000).map(start), grad: (0..<40_000).map(gradient))
        let optimizer = AdamW(parameters: [("weight", weight), ("bias", bias)], learningRate: lr, weightDecay: decay)
        optimizer.step()

        var weightErrors = 0
        for index in 0..<40_200 {
            let sign: Float = gradient(index) > 0 ? 1 : -1
            let expected = start(index) * (1 - lr * decay) - lr * sign
            if abs(weight.data[index] - expected) > 1e-6 { weightErrors += 1 }
        }
        var biasErrors = 0
        for index in 0..<40_000 {
            let sign: Float = gradient(index) > 0 ? 1 : -1
            if abs(bias.data[index] - (start(index) - lr * sign)) > 1e-6 { biasErrors += 1 }
        }
        #expect(weightErrors == 0)
        #expect(biasErrors == 0)
    }

    @Test("skips parameters without a gradient")
    func skipsMissingGradient() {
        let (weight, bias) = Self.weightAndBias()
        bias.grad = [1, 1]
        let optimizer = AdamW(parameters: [("weight", weight), ("bias", bias)], learningRate: 0.1, weightDecay: 0.5)
        optimizer.step()
        #expect(weight.data == [1, -2])
        expectClose(bias.data, [0.9, -2.1], tolerance: 2e-7)
    }
}

@Suite("AdamW state")
struct AdamWStateTests {
    /// Returns two parameters with fixed values, named "w" [2, 2] and "b" [2].
    static func parameters() -> [(name: String, tensor: Tensor)] {
        [("w", Tensor(shape: [2, 2], data: [0.5, -1, 2, 0.25], requiresGrad: true)),
         ("b", Tensor(shape: [2], data: [0.1, -0.3], requiresGrad: true))]
    }

    /// Gives each parameter a gradient that depends on `step`, so successive steps differ.
    static func setGradients(_ parameters: [(name: String, tensor: Tensor)], step: Int) {
        for (index, parameter) in parameters.enumerated() {
            parameter.tensor.grad = (0..<parameter.tensor.count).map { Float(index + 1) * Float($0 + 1) * (step.isMultiple(of: 2) ? 1 : -0.5) }
        }
    }

    @Test("state holds the step count and both moments")
    func stateContents() {
        // After one step with g = [1, 2, 3, 4] for "w" and [2, 4] for "b" (the pattern above with a
        // factor 1 at step 0): m = 0.1 · g and v = 0.001 · g². In Float, 1 − 0.999 is 0.000999987,
        // 1.3e-5 below 0.001, so v is compared within 1.3e-5 · 0.016 ≈ 2.1e-7.
        let parameters = Self.parameters()
        let optimizer = AdamW(parameters: parameters, learningRate: 0.01)
        Self.setGradients(parameters, step: 0)
        optimizer.step()

        let state = optimizer.state()
        #expect(state.map(\.name) == ["step", "m.w", "v.w", "m.b", "v.b"])
        #expect(state[0].shape == [])
        #expect(state[0].values == [1])
        #expect(state[1].shape == [2, 2])
        #expect(state[4].shape == [2])
        expectClose(state[1].values, [0.1, 0.2, 0.3, 0.4], tolerance: 1e-7, "m.w")
        expectClose(state[2].values, [0.001, 0.004, 0.009, 0.016], tolerance: 3e-7, "v.w")
        expectClose(state[3].values, [0.2, 0.4], tolerance: 1e-7, "m.b")
        expectClose(state[4].values, [0.004, 0.016], tolerance: 3e-7, "v.b")
    }

    @Test("loadState resumes exactly")
    func roundTrip() throws {
        // Optimizer A takes three steps. B loads A's state after two steps into a copy of A's
        // parameters at that point; its third step must then match A's bit for bit.
        let original = Self.parameters()
        let a = AdamW(parameters: original, learningRate: 0.01)
        for step in 0..<2 {
            Self.setGradients(original, step: step)
            a.step()
        }
        let saved = a.state()

        let copy = original.map { (name: $0.name, tensor: Tensor(shape: $0.tensor.shape, data: $0.tensor.data, requiresGrad: true)) }
        let b = AdamW(parameters: copy, learningRate: 0.01)
        try b.loadState(saved)
        #expect(b.stepCount == 2)
        #expect(b.state() == saved)

        // A third optimizer on another copy without the state steps differently, which shows the
        // comparison below can fail.
        let fresh = original.map { (name: $0.name, tensor: Tensor(shape: $0.tensor.shape, data: $0.tensor.data, requiresGrad: true)) }
        let c = AdamW(parameters: fresh, learningRate: 0.01)

        for optimizer in [a, b, c] {
            Self.setGradients(optimizer.parameters, step: 2)
            optimizer.step()
        }
        for index in original.indices {
            #expect(copy[index].tensor.data == original[index].tensor.data, "parameter \(original[index].name)")
            #expect(fresh[index].tensor.data != original[index].tensor.data, "parameter \(original[index].name)")
        }
    }

    @Test("loadState rejects a state without a step count")
    func missingStep() {
        let optimizer = AdamW(parameters: Self.parameters(), learningRate: 0.01)
        let state = optimizer.state().filter { $0.name != "step" }
        #expect(throws: CheckpointError.self) { try optimizer.loadState(state) }
    }

    @Test("loadState rejects a missing moment")
    func missingMoment() {
        let optimizer = AdamW(parameters: Self.parameters(), learningRate: 0.01)
        let state = optimizer.state().filter { $0.name != "v.b" }
        let error = #expect(throws: CheckpointError.self) { try optimizer.loadState(state) }
        #expect(error?.description.contains("v.b") == true)
    }

    @Test("loadState rejects a wrong shape")
    func wrongShape() throws {
        // "m.w" is valid, "v.w" has shape [4] instead of [2, 2]; the failed load must not have
        // replaced "m.w" or the step count.
        let parameters = Self.parameters()
        let optimizer = AdamW(parameters: parameters, learningRate: 0.01)
        var state = optimizer.state()
        state[0].values = [7]
        state[1].values = [9, 9, 9, 9]
        state[2].shape = [4]
        let error = #expect(throws: CheckpointError.self) { try optimizer.loadState(state) }
        #expect(error?.description.contains("v.w") == true)
        #expect(error?.description.contains("[4]") == true)
        #expect(optimizer.stepCount == 0)
        #expect(optimizer.state()[1].values == [0, 0, 0, 0])
    }

    @Test("loadState rejects a short moment")
    func wrongValueCount() {
        // A NamedArray can be built with fewer values than its shape needs; loading it would make
        // the next step index past the end of the moment array.
        let optimizer = AdamW(parameters: Self.parameters(), learningRate: 0.01)
        var state = optimizer.state()
        state[1].values = [0]
        #expect(throws: CheckpointError.self) { try optimizer.loadState(state) }
    }

    @Test("loadState rejects a negative step count")
    func negativeStep() {
        // Step −1 would make the next step number 0, and its bias correction 1 − β⁰ = 0 would divide by zero.
        let optimizer = AdamW(parameters: Self.parameters(), learningRate: 0.01)
        var state = optimizer.state()
        state[0].values = [-1]
        #expect(throws: CheckpointError.self) { try optimizer.loadState(state) }
    }

    @Test("loadState throws on a NaN step")
    func nanStep() async {
        // Converting NaN to Int traps, so this runs in a child process.
        await #expect(processExitsWith: .success) {
            let optimizer = AdamW(parameters: AdamWStateTests.parameters(), learningRate: 0.01)
            var state = optimizer.state()
            state[0].values = [.nan]
            do {
                try optimizer.loadState(state)
                exit(1)
            } catch {
                exit(0)
            }
        }
    }
}
