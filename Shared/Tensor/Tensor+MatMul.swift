// Matrix multiplication, 2-D and batched, with transposed operands read in place.

extension Tensor {
    /// Returns op(a) · op(b), where op transposes the last two axes when asked.
    ///
    /// - `a` `[M, K]` with `b` `[K, N]` gives `[M, N]`.
    /// - `a` `[..., M, K]` with a 2-D `b` treats a's leading axes as extra rows (a linear layer on `[B, T, C]`).
    /// - `a` `[..., M, K]` with `b` `[..., K, N]` and equal leading axes multiplies each pair
    ///   (attention on `[B, numHeads, T, headSize]`).
    ///
    /// The backward pass also calls GEMM with transposed operands, so no transpose is ever copied.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank >= 2 && b.rank >= 2, "matmul: operands need at least 2 dimensions, got \(a.shape) and \(b.shape)")
        let b2D = b.rank == 2
        precondition(
            b2D || (a.rank == b.rank && a.shape.dropLast(2) == b.shape.dropLast(2)),
            "matmul: batched operands need equal leading dimensions, got \(a.shape) and \(b.shape)")
        precondition(!(b2D && transposeA && a.rank > 2), "matmul: transposeA with a 2-D right operand needs a 2-D left operand, got \(a.shape)")

        let aRows = a.shape[a.rank - 2], aCols = a.shape[a.rank - 1]
        let bRows = b.shape[b.rank - 2], bCols = b.shape[b.rank - 1]
        let batch = b2D ? 1 : a.shape.dropLast(2).reduce(1, *)
        // A 2-D right operand folds the left operand's leading axes into its rows.
        let m = (transposeA ? aCols : aRows) * (b2D ? a.shape.dropLast(2).reduce(1, *) : 1)
        let k = transposeA ? aRows : aCols
        let kB = transposeB ? bCols : bRows
        let n = transposeB ? bRows : bCols
        precondition(
            k == kB,
            "matmul: inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") × \(b.shape)\(transposeB ? "ᵀ" : "") (\(k) vs \(kB))")

        let outputShape = Array(a.shape.dropLast(2)) + [transposeA ? aCols : aRows, n]
        let lda = aCols, ldb = bCols
        let strideA = b2D ? 0 : aRows * aCols, strideB = b2D ? 0 : bRows * bCols, strideC = m * n
        // GEMM with beta 0 writes every element, so the buffer needs no zero fill.
        let values = [Float](unsafeUninitializedCapacity: batch * m * n) { c, initialized in
            multiply(batch: batch, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                     a: a.data, lda: lda, strideA: strideA, b: b.data, ldb: ldb, strideB: strideB,
                     into: c, ldc: n, strideC: strideC, accumulate: false)
            initialized = batch * m * n
        }

        return result(shape: outputShape, data: values, parents: [a, b]) { output in
            let g = output.grad!
            // C = op(A)·op(B): dop(A) = dC·op(B)ᵀ and dop(B) = op(A)ᵀ·dC, each taken back through op.
            if a.requiresGrad {
                a.accumulateGrad { ga, isNew in
                    if transposeA {
                        multiply(batch: batch, transposeA: transposeB, transposeB: true, m: k, n: m, k: n,
                                 a: b.data, lda: ldb, strideA: strideB, b: g, ldb: n, strideB: strideC,
                                 into: ga, ldc: m, strideC: strideA, accumulate: !isNew)
                    } else {
                        multiply(batch: batch, transposeA: false, transposeB: !transposeB, m: m, n: k, k: n,
                                 a: g, lda: n, strideA: strideC, b: b.data, ldb: ldb, strideB: strideB,
                                 into: ga, ldc: k, strideC: strideA, accumulate: !isNew)
                    }
                }
            }
            if b.requiresGrad {
                b.accumulateGrad { gb, isNew in
                    // With a shared 2-D right operand, every batch adds into the same gradient.
                    if transposeB {
                        multiply(batch: batch, transposeA: true, transposeB: transposeA, m: n, n: k, k: m,
                                 a: g, lda: n, strideA: strideC, b: a.data, ldb: lda, strideB: strideA,
                                 into: gb, ldc: k, strideC: strideB, accumulate: !isNew)
                    } else {
                        multiply(batch: batch, transposeA: !transposeA, transposeB: false, m: k, n: n, k: m,
                                 a: a.data, lda: lda, strideA: strideA, b: g, ldb: n, strideB: strideC,
                                 into: gb, ldc: n, strideC: strideB, accumulate: !isNew)
                    }
                }
            }
        }
    }
}

/// Calls the GEMM kernel on array storage, once per batch (a stride of 0 shares an operand).
private func multiply(
    batch: Int, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    a: [Float], lda: Int, strideA: Int, b: [Float], ldb: Int, strideB: Int,
    into pc: UnsafeMutableBufferPointer<Float>, ldc: Int, strideC: Int, accumulate: Bool
) {
    guard m > 0, n > 0 else { return }
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            do {
                guard k > 0 else {
                    if !accumulate { pc.update(repeating: 0) }
                    return
                }
                if batch == 1 {
                    sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                          a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                          beta: accumulate ? 1 : 0, c: pc.baseAddress!, ldc: ldc)
                } else {
                    sgemmBatched(batchCount: batch, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                 a: pa.baseAddress!, lda: lda, strideA: strideA, b: pb.baseAddress!, ldb: ldb, strideB: strideB,
                                 beta: accumulate ? 1 : 0, c: pc.baseAddress!, ldc: ldc, strideC: strideC)
                }
            }
        }
    }
}
