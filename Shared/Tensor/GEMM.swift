// Temporary reference GEMM; replaced by the blocked SIMD kernel.
public func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                  beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    for i in 0..<m {
        for j in 0..<n {
            var sum: Float = 0
            for p in 0..<k {
                let x = transposeA ? a[p * lda + i] : a[i * lda + p]
                let y = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                sum += x * y
            }
            c[i * ldc + j] = (beta == 0 ? 0 : beta * c[i * ldc + j]) + sum
        }
    }
}

public func sgemmBatched(batchCount: Int, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                  a: UnsafePointer<Float>, lda: Int, strideA: Int, b: UnsafePointer<Float>, ldb: Int, strideB: Int,
                  beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int) {
    for batch in 0..<batchCount {
        sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
              a: a + batch * strideA, lda: lda, b: b + batch * strideB, ldb: ldb,
              beta: beta, c: c + batch * strideC, ldc: ldc)
    }
}
