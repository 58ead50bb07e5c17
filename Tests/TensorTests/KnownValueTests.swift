import Foundation
import Testing
@testable import Tensor

// Forward values and gradients worked out by hand. Where a tolerance is given it allows a few
// units in the last place (ulps) of the numbers involved: one ulp of a Float near 1 is 1.2e-7.

@Suite("Softmax known values")
struct SoftmaxKnownValueTests {
    @Test("huge logits stay finite")
    func hugeLogits() {
        // Shifted by the maximum, [1000, 1000, 999] becomes [0, 0, -1], so the probabilities are
        // 1/(2 + e⁻¹), 1/(2 + e⁻¹), e⁻¹/(2 + e⁻¹) = 0.42231880, 0.42231880, 0.15536240.
        // Unshifted, e¹⁰⁰⁰ would overflow to infinity and give NaN.
        let y = Tensor(shape: [3], data: [1000, 1000, 999]).softmax()
        #expect(y.data.allSatisfy { $0.isFinite })
        expectClose(y.data, [0.42231880, 0.42231880, 0.15536240], tolerance: 3e-7)
    }

    @Test("huge logits in logSoftmax")
    func hugeLogitsLogSoftmax() {
        // log-softmax = (x − max) − ln(2 + e⁻¹) with ln(2.36787944) = 0.86199480. Forming
        // max + ln(2 + e⁻¹) = 1000.862 first would round it to a multiple of 2⁻¹⁴ = 6.1e-5 (one ulp
        // of 1000) and lose about 5e-6; the tolerance of a few ulps of 0.86 rules that out.
        let y = Tensor(shape: [3], data: [1000, 1000, 999]).logSoftmax()
        #expect(y.data.allSatisfy { $0.isFinite })
        expectClose(y.data, [-0.86199480, -0.86199480, -1.86199480], tolerance: 3e-7)
    }

    @Test("equal, tiny and very negative logits")
    func equalAndTinyLogits() {
        // Equal logits give 1/V exactly; ±1e-30 differences vanish next to 1 in Float, so those also
        // give 1/3. A row of −1000s would underflow to 0/0 without the shift and gives 1/2 each.
        // [1000, −1000] shifts to [0, −2000], and e⁻²⁰⁰⁰ underflows to exactly 0.
        let rows = Tensor(shape: [4, 4], data: [
            0, 0, 0, 0,
            1e-30, 0, -1e-30, 0,
            -1000, -1000, -1000, -1000,
            1000, -1000, -1000, -1000,
        ]).softmax()
        #expect(Array(rows.data[0..<4]) == [0.25, 0.25, 0.25, 0.25])
        #expect(Array(rows.data[4..<8]) == [0.25, 0.25, 0.25, 0.25])
        #expect(Array(rows.data[8..<12]) == [0.25, 0.25, 0.25, 0.25])
        #expect(Array(rows.data[12..<16]) == [1, 0, 0, 0])

        let thirds = Tensor(shape: [3], data: [1e-30, 0, -1e-30]).softmax()
        expectClose(thirds.data, [1.0 / 3, 1.0 / 3, 1.0 / 3], tolerance: 1e-7)
    }

    @Test("causalSoftmax rows and masked zeros")
    func causalSoftmaxRows() {
        let x = randomTensor([2, 3, 5, 5], seed: 4, std: 3)
        let y = x.causalSoftmax(scale: 0.7)
        for matrix in 0..<6 {
            for row in 0..<5 {
                let start = (matrix * 5 + row) * 5
                let entries = Array(y.data[start..<(start + 5)])
                // Five Float terms of at most 1 sum with an error of a few ulps of 1.
                #expect(abs(entries.reduce(0, +) - 1) <= 5e-7, "matrix \(matrix) row \(row): \(entries)")
                for column in 0...row {
                    #expect(entries[column] > 0, "matrix \(matrix) row \(row) column \(column) is visible")
                }
                for column in (row + 1)..<5 {
                    #expect(entries[column] == 0, "matrix \(matrix) row \(row) column \(column) is masked")
                }
            }
        }
    }

    @Test("causalSoftmax of zeros and a scaled row")
    func causalSoftmaxValues() {
        // Zero scores: row t spreads 1/(t + 1) over its first t + 1 entries.
        let uniform = Tensor.zeros([4, 4]).causalSoftmax(scale: 0.5)
        expectClose(uniform.data, [
            1, 0, 0, 0,
            0.5, 0.5, 0, 0,
            1.0 / 3, 1.0 / 3, 1.0 / 3, 0,
            0.25, 0.25, 0.25, 0.25,
        ], tolerance: 1e-7)

        // Scale 0.5 turns row 1 = [0, 2 ln 3] into [0, ln 3], so softmax gives [1/4, 3/4]. The
        // masked 1000 in row 0 has no effect.
        let scores = Tensor(shape: [2, 2], data: [5, 1000, 0, 2 * Float(Foundation.log(3.0))])
        let y = scores.causalSoftmax(scale: 0.5)
        expectClose(y.data, [1, 0, 0.25, 0.75], tolerance: 2e-7)
    }

    @Test("causalMasked then softmax equals causalSoftmax")
    func maskThenSoftmax() {
        // Masking with −∞ and taking softmax is the unfused form of causalSoftmax(scale: 1).
        let x = randomTensor([2, 4, 4], seed: 8)
        let unfused = x.causalMasked().softmax()
        let fused = x.causalSoftmax(scale: 1)
        expectClose(unfused.data, fused.data, tolerance: 2e-7)
        for (index, value) in unfused.data.enumerated() where index % 4 > (index / 4) % 4 {
            #expect(value == 0, "entry \(index) lies above the diagonal")
        }
    }
}

@Suite("Cross-entropy known values")
struct CrossEntropyKnownValueTests {
    @Test("logits ±1e4 give an exact loss and gradient")
    func extremeLogits() {
        // Each row is [1e4, 0, −1e4]; the row loss is logsumexp − logit[target].
        // logsumexp = 1e4 + ln(1 + e⁻¹⁰⁰⁰⁰ + e⁻²⁰⁰⁰⁰) = 1e4 exactly in Float (the exponentials underflow).
        // Targets 0, 1, 2 give losses 0, 1e4, 2e4; the mean is 1e4.
        let logits = Tensor(shape: [3, 3], data: [1e4, 0, -1e4, 1e4, 0, -1e4, 1e4, 0, -1e4], requiresGrad: true)
        let loss = Tensor.crossEntropy(logits: logits, targets: [0, 1, 2])
        #expect(loss.item == 10_000)

        // Gradient (softmax − one-hot) / 3, with softmax = [1, 0, 0] in every row.
        loss.backward()
        let third = Float(1) / 3
        #expect(logits.grad == [0, 0, 0, third, -third, 0, third, 0, -third])
    }

    @Test("large near-tied logits stay precise")
    func largeNearTie() {
        // Row [1000, 999] with target 0: loss = ln(1 + e⁻¹) = 0.31326169; target 1 adds 1: 1.31326169.
        // The mean is 0.81326169. Forming ln Σ + max = 1000.31326 in Float first would round to a
        // multiple of 6.1e-5 and lose up to 3e-5.
        let logits = Tensor(shape: [2, 2], data: [1000, 999, 1000, 999])
        let loss = Tensor.crossEntropy(logits: logits, targets: [0, 1])
        #expect(abs(loss.item - 0.81326169) <= 3e-7)
    }

    @Test("equal logits give ln V")
    func equalLogits() {
        // Seven equal logits make softmax 1/7 everywhere, so every row's loss is ln 7 = 1.94591015.
        let logits = Tensor(repeating: 3.5, shape: [2, 7], requiresGrad: true)
        let loss = Tensor.crossEntropy(logits: logits, targets: [0, 6])
        #expect(abs(loss.item - 1.94591015) <= 2e-7)

        // Gradient (1/7 − one-hot) / 2: 1/14 = 0.07142857 off target and 1/14 − 1/2 = −0.42857143 on it.
        loss.backward()
        var expected = [Float](repeating: 0.07142857, count: 14)
        expected[0] = -0.42857143
        expected[13] = -0.42857143
        expectClose(logits.grad ?? [], expected, tolerance: 3e-8)
    }

    @Test("gradient scales with the upstream gradient")
    func upstreamScale() {
        // Two classes with logits [ln 3, 0] give softmax [3/4, 1/4]; target 1 gives the gradient
        // [3/4, 1/4 − 1] = [0.75, −0.75], times an upstream gradient of 2: [1.5, −1.5].
        let logits = Tensor(shape: [1, 2], data: [Float(Foundation.log(3.0)), 0], requiresGrad: true)
        let loss = Tensor.crossEntropy(logits: logits, targets: [1])
        // The loss is −ln(1/4) = ln 4 = 1.38629436.
        #expect(abs(loss.item - 1.38629436) <= 2e-7)
        loss.backward(seed: [2])
        expectClose(logits.grad ?? [], [1.5, -1.5], tolerance: 3e-7)
    }
}

@Suite("Fan-out sums gradients")
struct FanOutKnownValueTests {
    @Test("x · x and x + x")
    func productAndSum() {
        // With upstream gradient [1, 2, 3]: d(x·x) = 2x · g = [2, −8, 18] for x = [1, −2, 3];
        // d(x + x) = 2g = [2, 4, 6].
        let x = Tensor(shape: [3], data: [1, -2, 3], requiresGrad: true)
        (x * x).backward(seed: [1, 2, 3])
        #expect(x.grad == [2, -8, 18])

        x.zeroGrad()
        (x + x).backward(seed: [1, 2, 3])
        #expect(x.grad == [2, 4, 6])
    }

    @Test("x used in three places")
    func threeUses() {
        // f = Σ (x · x + x) · x = Σ x³ + x², so df/dx = 3x² + 2x = [5, 8, 33] for x = [1, −2, 3].
        let x = Tensor(shape: [3], data: [1, -2, 3], requiresGrad: true)
        ((x * x + x) * x).sum().backward()
        #expect(x.grad == [5, 8, 33])
    }

    @Test("one weight in two matmuls")
    func weightInTwoMatmuls() {
        // L = Σ (a · W) + Σ (W · b) with a = [[1, 2]] and b = [[3], [5]].
        // ∂/∂W_ij of Σ_j' (a W)_j' is a_i, and of Σ_i' (W b)_i' is b_j, so dW_ij = a_i + b_j:
        // [[1 + 3, 1 + 5], [2 + 3, 2 + 5]] = [[4, 6], [5, 7]].
        let weight = Tensor(shape: [2, 2], data: [0.5, -1, 2, 0.25], requiresGrad: true)
        let a = Tensor(shape: [1, 2], data: [1, 2])
        let b = Tensor(shape: [2, 1], data: [3, 5])
        let loss = Tensor.matmul(a, weight).sum() + Tensor.matmul(weight, b).sum()
        loss.backward()
        #expect(weight.grad == [4, 6, 5, 7])
    }

    @Test("tied embedding and output head")
    func tiedEmbedding() {
        // Table W = [[1, 0], [0, 2]]. Id 1 looks up h = [0, 2]; the head gives logits = h · Wᵀ = [0, 4].
        // With upstream gradient g = [1, 3]:
        //   head:      dW_v = g_v · h, rows [0, 2] and [0, 6];
        //   embedding: dh = Σ_v g_v · W_v = [1, 0] + 3 · [0, 2] = [1, 6], added to row 1.
        // Total dW = [[0, 2], [1, 12]].
        let table = Tensor(shape: [2, 2], data: [1, 0, 0, 2], requiresGrad: true)
        let hidden = Tensor.embedding(table, ids: [1], idsShape: [1])
        let logits = Tensor.matmul(hidden, table, transposeB: true)
        #expect(logits.data == [0, 4])
        logits.backward(seed: [1, 3])
        #expect(table.grad == [0, 2, 1, 12])
    }
}

@Suite("LayerNorm known values")
struct LayerNormKnownValueTests {
    @Test("forward and backward on four values")
    func smallVector() {
        // x = [1, 2, 4, 5]: mean μ = 3, deviations [−2, −1, 1, 2], biased variance 10/4 = 2.5,
        // σ = √2.5 = 1.58113883 (ε = 0), n = deviation/σ = [−1.26491106, −0.63245553, 0.63245553, 1.26491106].
        // With gain γ = [1, 2, 1, 0.5] and bias β = [0.5, 0, 0, −1], y = n·γ + β
        //   = [−0.76491106, −1.26491106, 0.63245553, −0.36754447].
        let x = Tensor(shape: [4], data: [1, 2, 4, 5], requiresGrad: true)
        let gain = Tensor(shape: [4], data: [1, 2, 1, 0.5], requiresGrad: true)
        let bias = Tensor(shape: [4], data: [0.5, 0, 0, -1], requiresGrad: true)
        let y = Tensor.layerNorm(x, gain: gain, bias: bias, epsilon: 0)
        expectClose(y.data, [-0.76491106, -1.26491106, 0.63245553, -0.36754447], tolerance: 3e-7, "y")

        // Upstream g = [1, 0, −1, 2]; d = g·γ = [1, 0, −1, 1].
        // From ∂n_i/∂x_j = (δ_ij − 1/N)/σ − dev_i·dev_j/(N σ³):
        //   dx_j = (d_j − mean(d))/σ − dev_j · Σ_i d_i dev_i / (N σ³)
        // with mean(d) = 0.25, Σ d_i dev_i = −2 + 0 − 1 + 2 = −1 and N σ³ = 4 · 2.5^1.5 = 15.8113883:
        //   dx = [0.75, −0.25, −1.25, 0.75]/σ + [−2, −1, 1, 2]/15.8113883
        //      = [0.34785054, −0.22135944, −0.72732386, 0.60083276].
        // dγ = g·n = [−1.26491106, 0, −0.63245553, 2.52982213] and dβ = g.
        y.backward(seed: [1, 0, -1, 2])
        expectClose(x.grad ?? [], [0.34785054, -0.22135944, -0.72732386, 0.60083276], tolerance: 3e-7, "dx")
        expectClose(gain.grad ?? [], [-1.26491106, 0, -0.63245553, 2.52982213], tolerance: 3e-7, "dgain")
        #expect(bias.grad == [1, 0, -1, 2])
    }

    @Test("epsilon keeps a constant row finite")
    func constantRow() {
        // A constant row has variance 0; with ε = 1e-5 the output is (x − μ)/√ε · γ + β = β.
        let x = Tensor(repeating: 7, shape: [2, 3], requiresGrad: true)
        let gain = Tensor.ones([3], requiresGrad: true)
        let bias = Tensor(shape: [3], data: [0.1, 0.2, 0.3], requiresGrad: true)
        let y = Tensor.layerNorm(x, gain: gain, bias: bias)
        #expect(y.data == [0.1, 0.2, 0.3, 0.1, 0.2, 0.3])
        y.backward(seed: [1, 2, 3, 4, 5, 6])
        #expect((x.grad ?? [.nan]).allSatisfy { $0.isFinite })
    }
}

@Suite("GELU known values")
struct GELUKnownValueTests {
    @Test("values at 0, 1, −1 and ±3")
    func values() {
        // GELU(x) = x/2 · (1 + erf(x/√2)), with erf(1/√2) = 0.68268949 (the one-sigma probability):
        //   GELU(0) = 0, GELU(1) = (1 + 0.68268949)/2 = 0.84134475, GELU(−1) = −(1 − 0.68268949)/2 = −0.15865525.
        // erf(3/√2) = 0.99730020, so GELU(3) = 1.5 · 1.99730020 = 2.99595031 and GELU(−3) = −1.5 · 0.00269980 = −0.00404969.
        let y = Tensor(shape: [5], data: [0, 1, -1, 3, -3]).gelu()
        #expect(y.data[0] == 0)
        expectClose(y.data, [0, 0.84134475, -0.15865525, 2.99595031, -0.00404969], tolerance: 3e-7)
    }

    @Test("derivative at 0, 1 and −1")
    func derivatives() {
        // d/dx GELU = Φ(x) + x·φ(x), with Φ(1) = 0.84134475, Φ(−1) = 0.15865525 and
        // φ(±1) = e^(−1/2)/√(2π) = 0.24197072:
        //   at 0: 1/2; at 1: 0.84134475 + 0.24197072 = 1.08331547; at −1: 0.15865525 − 0.24197072 = −0.08331547.
        let x = Tensor(shape: [3], data: [0, 1, -1], requiresGrad: true)
        x.gelu().sum().backward()
        expectClose(x.grad ?? [], [0.5, 1.08331547, -0.08331547], tolerance: 3e-7)
    }

    @Test("relu at and around 0")
    func relu() {
        // PyTorch's convention: the derivative at exactly 0 is 0.
        let x = Tensor(shape: [3], data: [-1, 0, 2], requiresGrad: true)
        let y = x.relu()
        #expect(y.data == [0, 0, 2])
        y.sum().backward()
        #expect(x.grad == [0, 0, 1])
    }
}
