import Dispatch
import Foundation
import Testing
import Tensor

// Every result is compared with a triple loop in Double over the same stored operands.
//
// Tolerance: a float32 dot product of k terms, summed in any order with or without fused
// multiply-adds, is within (k + 1) · u · Σ|a_ip · b_pj| of the exact value, where u = 2^-24 is the
// unit roundoff (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., section 3.1).
// Adding the old C value with beta 1 is one more rounding, so the check allows
// (k + 2) · u · (Σ|a_ip · b_pj| + |c_ij|). A wrong index or a missed term shows up as an error of
// the order of the terms themselves, far above that bound.

/// Seeded SplitMix64 generator, so every run uses the same operands.
private struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Returns a float uniformly drawn from [-1, 1).
    mutating func nextFloat() -> Float {
        Float(next() >> 40) / Float(1 << 23) - 1
    }
}

/// One GEMM test case with its operands, stored row-major with leading dimensions that may
/// exceed the widths. Padding elements of A and B hold NaN, so reading one spoils the result.
private struct GEMMCase: CustomStringConvertible {
    let transposeA: Bool
    let transposeB: Bool
    let m: Int
    let n: Int
    let k: Int
    let lda: Int
    let ldb: Int
    let ldc: Int
    let beta: Float
    var a: [Float]
    var b: [Float]
    var c: [Float]

    /// Value that C padding columns hold before and must hold after the call.
    static let untouched: Float = 777

    var description: String {
        "transposeA \(transposeA), transposeB \(transposeB), m \(m), n \(n), k \(k), "
            + "lda \(lda), ldb \(ldb), ldc \(ldc), beta \(beta)"
    }

    init(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, beta: Float,
         padding: Int = 0, seed: UInt64) {
        self.transposeA = transposeA
        self.transposeB = transposeB
        self.m = m
        self.n = n
        self.k = k
        self.beta = beta
        var random = SplitMix64(state: seed)

        let (rowsA, widthA) = transposeA ? (k, m) : (m, k)
        let (rowsB, widthB) = transposeB ? (n, k) : (k, n)
        lda = max(1, widthA + padding)
        ldb = max(1, widthB + padding)
        ldc = max(1, n + padding)
        a = Self.matrix(rows: rowsA, width: widthA, stride: lda, padValue: .nan, random: &random)
        b = Self.matrix(rows: rowsB, width: widthB, stride: ldb, padValue: .nan, random: &random)
        c = Self.matrix(rows: m, width: n, stride: ldc, padValue: Self.untouched, random: &random)
        if beta == 0 {
            // With beta 0 the old C must not be read, so NaN there must not reach the result.
            for row in 0..<m {
                for column in 0..<n { c[row * ldc + column] = .nan }
            }
        }
    }

    private static func matrix(rows: Int, width: Int, stride: Int, padValue: Float,
                               random: inout SplitMix64) -> [Float] {
        var values = [Float](repeating: padValue, count: max(1, rows * stride))
        for row in 0..<rows {
            for column in 0..<width { values[row * stride + column] = random.nextFloat() }
        }
        return values
    }

    /// Element (i, p) of op(A).
    func elementA(_ i: Int, _ p: Int) -> Double {
        Double(transposeA ? a[p * lda + i] : a[i * lda + p])
    }

    /// Element (p, j) of op(B).
    func elementB(_ p: Int, _ j: Int) -> Double {
        Double(transposeB ? b[j * ldb + p] : b[p * ldb + j])
    }

    /// Runs `sgemm` on copies of the operands and returns the new C.
    func runSGEMM() -> [Float] {
        var result = c
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { c in
                    sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                          a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb,
                          beta: beta, c: c.baseAddress!, ldc: ldc)
                }
            }
        }
        return result
    }

    /// Checks `result` against the Double reference, and that C padding is untouched.
    /// Returns the number of mismatching elements and records the first few.
    @discardableResult
    func check(_ result: [Float], label: String = "") -> Int {
        var mismatches = 0
        for i in 0..<m {
            for j in 0..<n {
                let old = beta == 0 ? 0 : Double(c[i * ldc + j])
                var exact = old
                var magnitude = abs(old)
                for p in 0..<k {
                    let product = elementA(i, p) * elementB(p, j)
                    exact += product
                    magnitude += abs(product)
                }
                let tolerance = Double(k + 2) * 0x1p-24 * magnitude
                let actual = Double(result[i * ldc + j])
                if !(abs(actual - exact) <= tolerance) {
                    mismatches += 1
                    if mismatches <= 3 {
                        Issue.record("\(label)\(self): C[\(i), \(j)] is \(actual), expected \(exact) within \(tolerance)")
                    }
                }
            }
            for j in n..<ldc where result[i * ldc + j] != Self.untouched {
                mismatches += 1
                Issue.record("\(label)\(self): padding C[\(i), \(j)] changed to \(result[i * ldc + j])")
            }
        }
        return mismatches
    }
}

@Suite("sgemm and sgemmBatched")
struct GEMMTests {
    /// Sizes around the kernel's 6-row tile (16 columns wide with AVX2, 32 with AVX-512), its
    /// 256-deep k blocks and 192-row blocks, and widths 1 to 3 columns past a full panel.
    static let sizes: [(m: Int, n: Int, k: Int)] = [
        (1, 1, 1), (1, 5, 7), (5, 1, 7), (7, 5, 1), (6, 16, 8), (5, 17, 65), (17, 65, 5),
        (65, 17, 130), (130, 7, 65), (7, 130, 17), (9, 29, 40), (40, 3, 70), (12, 32, 257), (200, 33, 300), (193, 47, 513),
    ]

    static let layouts: [(transposeA: Bool, transposeB: Bool)] = [
        (false, false), (false, true), (true, false), (true, true),
    ]

    @Test("matches reference for all layouts, beta and odd sizes")
    func oddSizes() {
        var seed: UInt64 = 1
        for layout in Self.layouts {
            for size in Self.sizes {
                for beta: Float in [0, 1] {
                    let testCase = GEMMCase(transposeA: layout.transposeA, transposeB: layout.transposeB,
                                            m: size.m, n: size.n, k: size.k, beta: beta, seed: seed)
                    seed += 1
                    #expect(testCase.check(testCase.runSGEMM()) == 0, "\(testCase)")
                }
            }
        }
    }

    @Test("reads and writes only inside leading dimensions")
    func paddedLeadingDimensions() {
        var seed: UInt64 = 100
        for layout in Self.layouts {
            for size in [(m: 7, n: 17, k: 5), (m: 65, n: 33, k: 130), (m: 13, n: 70, k: 300)] {
                for beta: Float in [0, 1] {
                    let testCase = GEMMCase(transposeA: layout.transposeA, transposeB: layout.transposeB,
                                            m: size.m, n: size.n, k: size.k, beta: beta, padding: 5, seed: seed)
                    seed += 1
                    #expect(testCase.lda > (layout.transposeA ? size.m : size.k))
                    #expect(testCase.check(testCase.runSGEMM()) == 0, "\(testCase)")
                }
            }
        }
    }

    @Test("splits large problems by rows and by columns")
    func multithreadedSizes() {
        // Each of the first five has over 2^20 multiply-adds. The first four are cut by rows and
        // share one packed B, and 96 x 2050 x 260 has two 2048-column blocks and two 256-deep k
        // blocks in it. The B of 150 x 140 x 200 and 96 x 2050 x 260 is large enough to be packed
        // by all cores, and 140 columns end in a part-filled panel. 7 x 700 x 230 has too few rows
        // and is cut by columns. 3 x 2100 x 9 and 5 x 2050 x 9 run on one thread across a
        // 2048-column block.
        let sizes = [(m: 800, n: 20, k: 70), (m: 150, n: 140, k: 70), (m: 150, n: 140, k: 200),
                     (m: 96, n: 2050, k: 260), (m: 7, n: 700, k: 230), (m: 3, n: 2100, k: 9),
                     (m: 5, n: 2050, k: 9)]
        var seed: UInt64 = 200
        for layout in Self.layouts {
            for size in sizes {
                // The largest case runs with beta 1 only, to keep the Double reference quick.
                for beta: Float in size.m * size.n * size.k > 10_000_000 ? [1] : [0, 1] {
                    let testCase = GEMMCase(transposeA: layout.transposeA, transposeB: layout.transposeB,
                                            m: size.m, n: size.n, k: size.k, beta: beta, padding: 3, seed: seed)
                    seed += 1
                    #expect(testCase.check(testCase.runSGEMM()) == 0, "\(testCase)")
                }
            }
        }
    }

    @Test("k of 0 scales C by beta")
    func emptyDepth() {
        for beta: Float in [0, 1] {
            var c: [Float] = [3, -4, 5, GEMMCase.untouched, 6, 7, -8, GEMMCase.untouched]
            let a: [Float] = [.nan]
            let b: [Float] = [.nan]
            sgemm(transposeA: false, transposeB: false, m: 2, n: 3, k: 0, a: a, lda: 1, b: b, ldb: 3,
                  beta: beta, c: &c, ldc: 4)
            let expected: [Float] = beta == 0
                ? [0, 0, 0, GEMMCase.untouched, 0, 0, 0, GEMMCase.untouched]
                : [3, -4, 5, GEMMCase.untouched, 6, 7, -8, GEMMCase.untouched]
            #expect(c == expected, "beta \(beta)")
        }
    }

    @Test("m or n of 0 leaves C unchanged")
    func emptyResult() {
        let a: [Float] = [1, 2, 3, 4]
        let b: [Float] = [5, 6, 7, 8]
        var c: [Float] = [9, 10, 11, 12]
        sgemm(transposeA: false, transposeB: false, m: 0, n: 2, k: 2, a: a, lda: 2, b: b, ldb: 2,
              beta: 0, c: &c, ldc: 2)
        #expect(c == [9, 10, 11, 12])
        sgemm(transposeA: false, transposeB: false, m: 2, n: 0, k: 2, a: a, lda: 2, b: b, ldb: 1,
              beta: 0, c: &c, ldc: 1)
        #expect(c == [9, 10, 11, 12])
    }

    @Test("2 x 2 product worked by hand")
    func handWorked() {
        // [1 2; 3 4] · [5 6; 7 8] = [19 22; 43 50], plus the old C [1 1; 1 1] with beta 1.
        let a: [Float] = [1, 2, 3, 4]
        let b: [Float] = [5, 6, 7, 8]
        var c: [Float] = [1, 1, 1, 1]
        sgemm(transposeA: false, transposeB: false, m: 2, n: 2, k: 2, a: a, lda: 2, b: b, ldb: 2,
              beta: 1, c: &c, ldc: 2)
        #expect(c == [20, 23, 44, 51])
        // Aᵀ · Bᵀ with the same storage: [1 3; 2 4] · [5 7; 6 8] = [23 31; 34 46].
        sgemm(transposeA: true, transposeB: true, m: 2, n: 2, k: 2, a: a, lda: 2, b: b, ldb: 2,
              beta: 0, c: &c, ldc: 2)
        #expect(c == [23, 31, 34, 46])
    }

    @Test("two threads calling at once get their own results")
    func concurrentCalls() {
        let cases = (0..<4).map { index in
            GEMMCase(transposeA: index % 2 == 1, transposeB: index >= 2, m: 97, n: 131, k: 260,
                     beta: 0, padding: 1, seed: 300 + UInt64(index))
        }
        let results = ResultBox(count: cases.count)
        DispatchQueue.concurrentPerform(iterations: cases.count) { index in
            results.store(cases[index].runSGEMM(), at: index)
        }
        for (index, testCase) in cases.enumerated() {
            #expect(testCase.check(results.value(at: index)) == 0, "\(testCase)")
        }
    }

    @Test("batched matches reference with shared and strided operands")
    func batched() {
        struct Shape {
            let batch, m, n, k: Int
        }
        // Attention-sized GEMMs run in parallel by batch entry; 2 x 210 x 150 x 70 (over 2^21
        // multiply-adds each) splits each GEMM.
        let shapes = [
            Shape(batch: 1, m: 5, n: 7, k: 3), Shape(batch: 3, m: 7, n: 17, k: 5),
            Shape(batch: 48, m: 64, n: 64, k: 16), Shape(batch: 5, m: 65, n: 9, k: 33),
            Shape(batch: 2, m: 210, n: 150, k: 70),
        ]
        var seed: UInt64 = 400
        for shape in shapes {
            for layout in Self.layouts {
                for (shareA, shareB) in [(false, false), (true, false), (false, true)] {
                    for beta: Float in [0, 1] {
                        checkBatched(batch: shape.batch, m: shape.m, n: shape.n, k: shape.k,
                                     transposeA: layout.transposeA, transposeB: layout.transposeB,
                                     shareA: shareA, shareB: shareB, beta: beta, seed: seed)
                        seed += 1
                    }
                }
            }
        }
    }

    @Test("batched with strideC 0 sums into one C")
    func batchedSum() {
        // 4 x 20 x 24 x 9 runs on one thread; 3 x 150 x 140 x 70 splits each GEMM over the cores.
        var seed: UInt64 = 500
        for (batch, m, n, k) in [(4, 20, 24, 9), (3, 150, 140, 70)] {
            for layout in Self.layouts {
                let cases = (0..<batch).map { index in
                    GEMMCase(transposeA: layout.transposeA, transposeB: layout.transposeB, m: m, n: n, k: k,
                             beta: 1, seed: seed &* 1000 &+ UInt64(index))
                }
                seed += 1
                let strideA = cases[0].a.count
                let strideB = cases[0].b.count
                let a = cases.flatMap(\.a)
                let b = cases.flatMap(\.b)
                var c = cases[0].c
                sgemmBatched(batchCount: batch, transposeA: layout.transposeA, transposeB: layout.transposeB,
                             m: m, n: n, k: k, a: a, lda: cases[0].lda, strideA: strideA, b: b, ldb: cases[0].ldb,
                             strideB: strideB, beta: 1, c: &c, ldc: cases[0].ldc, strideC: 0)

                // The bound covers batch * k products and the old C value.
                var mismatches = 0
                for i in 0..<m {
                    for j in 0..<n {
                        let old = Double(cases[0].c[i * cases[0].ldc + j])
                        var exact = old
                        var magnitude = abs(old)
                        for testCase in cases {
                            for p in 0..<k {
                                let product = testCase.elementA(i, p) * testCase.elementB(p, j)
                                exact += product
                                magnitude += abs(product)
                            }
                        }
                        let tolerance = Double(batch * k + 2) * 0x1p-24 * magnitude
                        if !(abs(Double(c[i * cases[0].ldc + j]) - exact) <= tolerance) { mismatches += 1 }
                    }
                }
                #expect(mismatches == 0, "batch \(batch), \(cases[0])")
            }
        }
    }

    /// Runs one `sgemmBatched` call on `batch` cases laid out back to back with padded strides,
    /// and checks each C against its own reference.
    private func checkBatched(batch: Int, m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool,
                              shareA: Bool, shareB: Bool, beta: Float, seed: UInt64) {
        var cases = (0..<batch).map { index in
            GEMMCase(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, beta: beta,
                     padding: 2, seed: seed &* 1000 &+ UInt64(index))
        }
        // A shared operand is the first case's, so every reference uses it too.
        for index in cases.indices {
            if shareA { cases[index].a = cases[0].a }
            if shareB { cases[index].b = cases[0].b }
        }

        // Strides one element longer than each matrix check that the stride, not the size, is used.
        let strideA = shareA ? 0 : cases[0].a.count + 1
        let strideB = shareB ? 0 : cases[0].b.count + 1
        let strideC = cases[0].c.count + 1
        var a = [Float](repeating: .nan, count: shareA ? cases[0].a.count : batch * strideA)
        var b = [Float](repeating: .nan, count: shareB ? cases[0].b.count : batch * strideB)
        var c = [Float](repeating: GEMMCase.untouched, count: batch * strideC)
        for (index, testCase) in cases.enumerated() {
            a.replaceSubrange(index * strideA..<index * strideA + testCase.a.count, with: testCase.a)
            b.replaceSubrange(index * strideB..<index * strideB + testCase.b.count, with: testCase.b)
            c.replaceSubrange(index * strideC..<index * strideC + testCase.c.count, with: testCase.c)
        }

        sgemmBatched(batchCount: batch, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                     a: a, lda: cases[0].lda, strideA: strideA, b: b, ldb: cases[0].ldb, strideB: strideB,
                     beta: beta, c: &c, ldc: cases[0].ldc, strideC: strideC)

        var mismatches = 0
        for (index, testCase) in cases.enumerated() {
            let result = Array(c[index * strideC..<index * strideC + testCase.c.count])
            mismatches += testCase.check(result, label: "batch entry \(index) of \(batch), shareA \(shareA), shareB \(shareB): ")
            #expect(c[index * strideC + testCase.c.count] == GEMMCase.untouched,
                    "the element between batch entries \(index) and \(index + 1) changed")
        }
        #expect(mismatches == 0, "batch \(batch), \(cases[0]), shareA \(shareA), shareB \(shareB)")
    }
}

/// Results written by `concurrentPerform` workers, each into its own slot under a lock.
private final class ResultBox: @unchecked Sendable {
    private var values: [[Float]]
    private let lock = NSLock()

    init(count: Int) { values = Array(repeating: [], count: count) }

    func store(_ value: [Float], at index: Int) {
        lock.lock()
        values[index] = value
        lock.unlock()
    }

    func value(at index: Int) -> [Float] {
        lock.lock()
        defer { lock.unlock() }
        return values[index]
    }
}
