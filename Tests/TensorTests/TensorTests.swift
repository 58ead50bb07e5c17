import Testing
@testable import Tensor

// Shared helpers for the Tensor tests, and the forward values of the shape and arithmetic
// operations, each worked out by hand.

/// Returns a tensor of normal(0, `std`) values drawn from a generator seeded with `seed`.
func randomTensor(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
    var generator = SeededGenerator(seed: seed)
    return Tensor.randomNormal(shape, std: std, generator: &generator)
}

/// Returns a tensor whose values have magnitudes uniform in `magnitudes`, with random signs when
/// `signed` is true. Keeps inputs away from 0 for division, logarithms and the kink of ReLU.
func randomTensor(_ shape: [Int], seed: UInt64, magnitudes: ClosedRange<Float>, signed: Bool = true) -> Tensor {
    var generator = SeededGenerator(seed: seed)
    let width = magnitudes.upperBound - magnitudes.lowerBound
    let values = (0..<elementCount(shape)).map { _ -> Float in
        let magnitude = magnitudes.lowerBound + width * generator.nextUniform()
        guard signed else { return magnitude }
        return generator.nextUniform() < 0.5 ? -magnitude : magnitude
    }
    return Tensor(shape: shape, data: values)
}

/// Records one issue for each position where `actual` and `expected` differ by more than `tolerance`.
func expectClose(
    _ actual: [Float], _ expected: [Float], tolerance: Float, _ what: String = "values",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, "\(what): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
    for (index, (a, e)) in zip(actual, expected).enumerated() {
        #expect(
            abs(a - e) <= tolerance,
            "\(what)[\(index)]: got \(a), expected \(e) (tolerance \(tolerance))",
            sourceLocation: sourceLocation)
    }
}

@Suite("Tensor forward values")
struct TensorForwardTests {
    @Test("broadcast add of a row and a column")
    func broadcastAdd() {
        // [[1, 2, 3], [4, 5, 6]] + [10, 20, 30] adds the row to each row;
        // + [[100], [200]] adds 100 to the first row and 200 to the second.
        let a = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        let row = Tensor(shape: [3], data: [10, 20, 30])
        let column = Tensor(shape: [2, 1], data: [100, 200])
        #expect((a + row).shape == [2, 3])
        #expect((a + row).data == [11, 22, 33, 14, 25, 36])
        #expect((a + column).data == [101, 102, 103, 204, 205, 206])
        // [3, 1] + [1, 2] broadcasts both operands to [3, 2].
        let left = Tensor(shape: [3, 1], data: [1, 2, 3])
        let right = Tensor(shape: [1, 2], data: [10, 20])
        #expect((left + right).shape == [3, 2])
        #expect((left + right).data == [11, 21, 12, 22, 13, 23])
    }

    @Test("element-wise and scalar arithmetic")
    func arithmetic() {
        let a = Tensor(shape: [4], data: [1, -2, 3, 8])
        let b = Tensor(shape: [4], data: [2, 4, -1, 0.5])
        #expect((a - b).data == [-1, -6, 4, 7.5])
        #expect((a * b).data == [2, -8, -3, 4])
        #expect((a / b).data == [0.5, -0.5, -3, 16])
        #expect((a + 1).data == [2, -1, 4, 9])
        #expect((a - 1).data == [0, -3, 2, 7])
        #expect((a * 2).data == [2, -4, 6, 16])
        #expect((2 * a).data == [2, -4, 6, 16])
        #expect((a / 4).data == [0.25, -0.5, 0.75, 2])
        #expect((-a).data == [-1, 2, -3, -8])
    }

    @Test("sums and means along an axis")
    func axisReductions() {
        // [[1, 2, 3], [4, 5, 6]]: column sums 5, 7, 9; row sums 6, 15; total 21.
        let a = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        #expect(a.sum().shape == [])
        #expect(a.sum().item == 21)
        #expect(a.mean().item == 3.5)
        #expect(a.sum(alongAxis: 0).shape == [3])
        #expect(a.sum(alongAxis: 0).data == [5, 7, 9])
        #expect(a.sum(alongAxis: 1).data == [6, 15])
        #expect(a.sum(alongAxis: -1, keepingDimension: true).shape == [2, 1])
        #expect(a.sum(alongAxis: -1, keepingDimension: true).data == [6, 15])
        #expect(a.mean(alongAxis: 0).data == [2.5, 3.5, 4.5])
        #expect(a.mean(alongAxis: 1, keepingDimension: true).shape == [2, 1])
        #expect(a.mean(alongAxis: 1, keepingDimension: true).data == [2, 5])
    }

    @Test("reshape infers a -1 dimension")
    func reshape() {
        let a = Tensor(shape: [2, 3, 4], data: (0..<24).map(Float.init))
        let b = a.reshaped([4, -1])
        #expect(b.shape == [4, 6])
        #expect(b.data == a.data)
        #expect(a.reshaped([-1]).shape == [24])
    }

    @Test("permute and transpose move values")
    func permute() {
        // a[i][j][k] = 100i + 10j + k with shape [2, 3, 4].
        var values: [Float] = []
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { values.append(Float(100 * i + 10 * j + k)) } } }
        let a = Tensor(shape: [2, 3, 4], data: values)

        // Output axis order [2, 0, 1]: b[k][i][j] = a[i][j][k], shape [4, 2, 3].
        let b = a.permuted([2, 0, 1])
        #expect(b.shape == [4, 2, 3])
        for k in 0..<4 {
            for i in 0..<2 {
                for j in 0..<3 {
                    #expect(b.data[(k * 2 + i) * 3 + j] == Float(100 * i + 10 * j + k))
                }
            }
        }

        // Swapping the last two axes: c[i][k][j] = a[i][j][k].
        let c = a.transposed(-1, -2)
        #expect(c.shape == [2, 4, 3])
        #expect(Array(c.data.prefix(6)) == [0, 10, 20, 1, 11, 21])
    }

    @Test("permute split across cores", arguments: [[0, 2, 1, 3], [3, 1, 0, 2]])
    func permuteLarge(order: [Int]) {
        // a[i][j][k][l] encodes its own index, so every output value shows where it came from. With
        // shape [6, 64, 4, 32] the runs are shared between cores. [0, 2, 1, 3] splits attention
        // heads (contiguous runs), and [3, 1, 0, 2] moves the innermost axis (strided runs).
        let shape = [6, 64, 4, 32]
        var values: [Float] = []
        for i in 0..<6 { for j in 0..<64 { for k in 0..<4 { for l in 0..<32 {
            values.append(Float(((i * 64 + j) * 4 + k) * 32 + l))
        } } } }
        let a = Tensor(shape: shape, data: values)
        let b = a.permuted(order)
        let outputShape = order.map { shape[$0] }
        #expect(b.shape == outputShape)

        var mismatches = 0
        var output = 0
        for p in 0..<outputShape[0] { for q in 0..<outputShape[1] { for r in 0..<outputShape[2] { for s in 0..<outputShape[3] {
            // Input index: input axis order[n] takes output index n.
            var index = [0, 0, 0, 0]
            for (position, value) in [p, q, r, s].enumerated() { index[order[position]] = value }
            let expected = Float(((index[0] * 64 + index[1]) * 4 + index[2]) * 32 + index[3])
            if b.data[output] != expected { mismatches += 1 }
            output += 1
        } } } }
        #expect(mismatches == 0)
    }

    @Test("split and concatenate along the last axis")
    func splitAndConcatenate() {
        // Rows [0 1 2 3 4] and [5 6 7 8 9] split into widths 2, 3.
        let a = Tensor(shape: [2, 5], data: (0..<10).map(Float.init))
        let pieces = a.split(lastAxisSizes: [2, 3])
        #expect(pieces.count == 2)
        #expect(pieces[0].shape == [2, 2])
        #expect(pieces[0].data == [0, 1, 5, 6])
        #expect(pieces[1].shape == [2, 3])
        #expect(pieces[1].data == [2, 3, 4, 7, 8, 9])

        let joined = Tensor.concatenate(lastAxis: [pieces[1], pieces[0]])
        #expect(joined.shape == [2, 5])
        #expect(joined.data == [2, 3, 4, 0, 1, 7, 8, 9, 5, 6])
    }

    @Test("matmul of small matrices in all transpose modes")
    func matmulValues() {
        // [[1, 2, 3], [4, 5, 6]] · [[7, 8], [9, 10], [11, 12]]
        //   = [[7 + 18 + 33, 8 + 20 + 36], [28 + 45 + 66, 32 + 50 + 72]] = [[58, 64], [139, 154]].
        let a = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3, 2], data: [7, 8, 9, 10, 11, 12])
        let aT = Tensor(shape: [3, 2], data: [1, 4, 2, 5, 3, 6])
        let bT = Tensor(shape: [2, 3], data: [7, 9, 11, 8, 10, 12])
        let expected: [Float] = [58, 64, 139, 154]
        #expect(Tensor.matmul(a, b).shape == [2, 2])
        #expect(Tensor.matmul(a, b).data == expected)
        #expect(Tensor.matmul(aT, b, transposeA: true).data == expected)
        #expect(Tensor.matmul(a, bT, transposeB: true).data == expected)
        #expect(Tensor.matmul(aT, bT, transposeA: true, transposeB: true).data == expected)

        // A [2, 2, 3] left operand with a 2-D right operand multiplies each of its rows.
        let stacked = Tensor(shape: [2, 2, 3], data: [1, 2, 3, 4, 5, 6, 0, 0, 1, 1, 0, 0])
        let product = Tensor.matmul(stacked, b)
        #expect(product.shape == [2, 2, 2])
        #expect(product.data == [58, 64, 139, 154, 11, 12, 7, 8])
    }

    @Test("embedding picks rows by id")
    func embeddingRows() {
        let table = Tensor(shape: [3, 2], data: [0, 1, 10, 11, 20, 21])
        let rows = Tensor.embedding(table, ids: [2, 0, 2, 1], idsShape: [2, 2])
        #expect(rows.shape == [2, 2, 2])
        #expect(rows.data == [20, 21, 0, 1, 20, 21, 10, 11])
    }

    @Test("dropout mask is fixed by the seed")
    func dropoutMask() {
        let x = Tensor(shape: [1000], data: (0..<1000).map { Float($0 % 7) + 1 })
        var first = SeededGenerator(seed: 11)
        var second = SeededGenerator(seed: 11)
        let a = x.dropout(probability: 0.25, generator: &first)
        let b = x.dropout(probability: 0.25, generator: &second)
        #expect(a.data == b.data)

        // Each survivor is scaled by 1 / (1 - 0.25) = 4/3; the rest are exactly 0.
        var dropped = 0
        for (output, input) in zip(a.data, x.data) {
            if output == 0 {
                dropped += 1
            } else {
                #expect(abs(output - input / 0.75) <= 1e-6 * input)
            }
        }
        // Dropped count is binomial(1000, 0.25): mean 250, standard deviation √187.5 ≈ 13.7;
        // 5 standard deviations is ±69.
        #expect(abs(dropped - 250) <= 69)
    }

    @Test("dropout with probability 0 returns its input")
    func dropoutZero() {
        let x = Tensor(shape: [3], data: [1, 2, 3])
        var generator = SeededGenerator(seed: 1)
        #expect(x.dropout(probability: 0, generator: &generator) === x)
        // No draw was taken, so the generator is still at the start of seed 1's sequence.
        var fresh = SeededGenerator(seed: 1)
        #expect(generator.next() == fresh.next())
    }

    @Test("detached copy leaves the graph")
    func detached() {
        let x = Tensor(shape: [2], data: [1, 2], requiresGrad: true)
        let y = (x * 3).detached()
        #expect(y.data == [3, 6])
        #expect(!y.requiresGrad)
        #expect(y.parents.isEmpty)
    }
}

@Suite("Large inputs split across threads")
struct ThreadedKernelTests {
    @Test("layerNorm of 300 rows matches row by row")
    func layerNormRows() {
        // 300 rows are enough for LayerNorm to split its rows across threads; each row computed on
        // its own takes the single-threaded path. Width 19 is two 8-lane blocks and a tail of 3.
        let (rows, width) = (300, 19)
        let x = randomTensor([rows, width], seed: 1)
        let gain = randomTensor([width], seed: 2)
        let bias = randomTensor([width], seed: 3)
        let upstream = randomTensor([rows, width], seed: 4).data
        for tensor in [x, gain, bias] { tensor.requiresGrad = true }
        let y = Tensor.layerNorm(x, gain: gain, bias: bias)
        y.backward(seed: upstream)

        var gainGradient = [Float](repeating: 0, count: width)
        var biasGradient = [Float](repeating: 0, count: width)
        for r in 0..<rows {
            let slice = (r * width)..<((r + 1) * width)
            let rowInput = Tensor(shape: [width], data: Array(x.data[slice]), requiresGrad: true)
            let rowGain = Tensor(shape: [width], data: gain.data, requiresGrad: true)
            let rowBias = Tensor(shape: [width], data: bias.data, requiresGrad: true)
            let rowOutput = Tensor.layerNorm(rowInput, gain: rowGain, bias: rowBias)
            rowOutput.backward(seed: Array(upstream[slice]))

            // The same arithmetic on the same row; 1e-6 leaves room for a different summation order.
            expectClose(Array(y.data[slice]), rowOutput.data, tolerance: 1e-6, "row \(r) output")
            expectClose(Array(x.grad![slice]), rowInput.grad!, tolerance: 1e-6, "row \(r) input gradient")
            for j in 0..<width {
                gainGradient[j] += rowGain.grad![j]
                biasGradient[j] += rowBias.grad![j]
            }
        }
        // Sums of 300 terms of size about 1 in another order differ by up to about 300 · 6e-8 · 20.
        expectClose(gain.grad ?? [], gainGradient, tolerance: 4e-4, "gain gradient")
        expectClose(bias.grad ?? [], biasGradient, tolerance: 4e-4, "bias gradient")
    }

    @Test("gelu of 40,000 values matches small pieces")
    func geluPieces() {
        // 40,000 values are enough for GELU to use several threads; pieces of 1,000 use one.
        let count = 40_000
        let x = randomTensor([count], seed: 5, std: 3)
        x.requiresGrad = true
        let upstream = randomTensor([count], seed: 6).data
        let y = x.gelu()
        y.backward(seed: upstream)

        for start in stride(from: 0, to: count, by: 1000) {
            let range = start..<(start + 1000)
            let piece = Tensor(shape: [1000], data: Array(x.data[range]), requiresGrad: true)
            let pieceOutput = piece.gelu()
            pieceOutput.backward(seed: Array(upstream[range]))
            #expect(Array(y.data[range]) == pieceOutput.data, "values \(range)")
            #expect(Array(x.grad![range]) == piece.grad!, "gradients \(range)")
        }
    }
}
