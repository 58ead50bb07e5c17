import Dispatch
import Foundation

// Single-precision matrix multiply (GEMM) for row-major matrices.
//
// The design follows the GotoBLAS/BLIS layering:
//   1. B is copied ("packed") block by block into panels of `panelWidth` columns, so that the
//      micro-kernel reads it contiguously from L1. Zero padding fills the last panel.
//   2. A is read in place through a row stride and a k stride, which covers both layouts without a
//      copy. Only a last, partial panel of fewer than `panelRows` rows is copied, with zero padding.
//   3. A micro-kernel keeps a `panelRows` x `panelWidth` tile of C in 12 `Vector` accumulators
//      (6 rows x 2 vectors) and adds one rank-1 update per k with fused multiply-adds.
//   4. The k dimension is cut into blocks of `kBlock`, so that one B panel stays in L1 and the rows
//      of A that one block touches stay in L2.
//   5. Up to `maxDotColumns` last columns (65 = 4 x 16 + 1 for a 65-character vocabulary) are dot
//      products of A rows and B columns instead of a mostly zero panel, when A is not transposed.
// Large problems are cut into pieces that `parallelFor` spreads over the cores.
// Every call allocates its own workspace, so concurrent calls are safe.

// NOTE: Built with `-target-cpu haswell`, the kernels use 256-bit AVX2 vectors, half the width that
// AVX-512 machines can use. Building the Tensor target with an AVX-512 CPU (for example
// `-target-cpu znver4`) and `-D TENSOR_AVX512` switches to 512-bit vectors. Such a build stops
// with an illegal instruction on CPUs without AVX-512.
#if TENSOR_AVX512
/// SIMD register type of the micro-kernel: one 512-bit register of an AVX-512 target.
private typealias Vector = SIMD16<Float>
#else
/// SIMD register type of the micro-kernel: one 256-bit AVX register of a Haswell-or-later target.
private typealias Vector = SIMD8<Float>
#endif

/// Rows of C that one micro-kernel call computes.
private let panelRows = 6
/// Columns of C that one micro-kernel call computes: two vectors.
private let panelWidth = 2 * Vector.scalarCount
/// Depth of one k block: a B panel of `kBlock` x `panelWidth` floats stays in L1 (16 KiB with
/// AVX2, 32 KiB with AVX-512).
private let kBlock = 256
/// Rows of A walked over one B block before the next; `rowBlock` x `kBlock` floats of A fit in L2.
private let rowBlock = 192
/// Columns of one packed B block: `kBlock` x `columnBlock` floats (2 MiB) stay in L3.
private let columnBlock = 2048
/// Maximum number of trailing columns (past the last full panel) that are computed as dot products
/// instead of through a zero-padded panel, when A is not transposed.
private let maxDotColumns = 3
/// Panels of B that one task of a parallel packing copies.
private let packPanelsPerTask = 4
/// Floats of packed B from which the packing is shared between cores: 64 KiB.
private let parallelPackFloats = 16_384
/// Pieces per core that a parallel GEMM is cut into, so that late or busy cores take fewer.
private let piecesPerThread = 2
/// Minimum row panels (48 rows) in one parallel piece of rows, so that each piece uses every
/// packed B panel it reads for enough rows to pay for reading it.
private let minimumPiecePanels = 8
/// Minimum columns in one parallel piece of columns: 4 cache lines of floats, so that pieces
/// writing the same cache line of C (where they meet) are rare.
private let minimumPieceColumns = 64
/// Multiply-adds (m·n·k) below which one GEMM runs on the calling thread. 2^20 of them take about
/// 16 µs on one AVX2 core. A threshold of 2^18 made a training step no faster on the 2-core
/// development machine.
private let parallelMultiplyAdds = 1 << 20

/// Computes C = op(A) · op(B) + beta · C for row-major matrices (beta is 0 or 1).
/// op(A) is [m, k], op(B) is [k, n], C is [m, n]. With transposeA the stored A is [k, m]; with transposeB the stored B is [n, k].
///
/// With beta 0 the old contents of C are never read, so C may start uninitialised or hold NaN.
/// Problems of at least 2^20 multiply-adds (m·n·k) are split over the active processor cores.
/// - Parameters:
///   - lda: Distance in floats between consecutive rows of the stored A, at least its width.
///   - ldb: Distance in floats between consecutive rows of the stored B, at least its width.
///   - ldc: Distance in floats between consecutive rows of C, at least `n`.
public func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                  beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    let problem = GEMMProblem(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                              a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    problem.validate()
    guard m > 0 && n > 0 else { return }

    if kernelThreadCount > 1 && m * n * k >= parallelMultiplyAdds {
        problem.runInParallel(threads: kernelThreadCount)
    } else {
        problem.runOnCurrentThread()
    }
}

/// Runs `batchCount` independent GEMMs whose operands are `strideA`, `strideB`, `strideC` floats apart (stride 0 = shared operand).
///
/// GEMM number `i` computes C_i = op(A_i) · op(B_i) + beta · C_i with A_i at `a + i * strideA`,
/// B_i at `b + i * strideB` and C_i at `c + i * strideC`; every other argument is as in `sgemm`.
/// Small GEMMs, such as one attention head's [T, headSize] x [headSize, T], are spread over the
/// cores by batch entry. Large ones are each split as `sgemm` splits them.
///
/// The C matrices must not overlap: `strideC` is either at least `(m - 1) * ldc + n`, or 0. With
/// `strideC` 0 the GEMMs run in order into the one C, so with beta 1 it receives the sum of all the
/// products.
public func sgemmBatched(batchCount: Int, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                         a: UnsafePointer<Float>, lda: Int, strideA: Int, b: UnsafePointer<Float>, ldb: Int, strideB: Int,
                         beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int) {
    precondition(batchCount >= 0, "sgemmBatched: batchCount must be non-negative, got \(batchCount)")
    precondition(strideA >= 0 && strideB >= 0,
                 "sgemmBatched: strideA and strideB must be non-negative, got \(strideA) and \(strideB)")
    if batchCount > 1 && m > 0 && n > 0 && strideC != 0 {
        let size = (m - 1) * ldc + n
        precondition(strideC >= size,
                     "sgemmBatched: strideC \(strideC) makes the C matrices overlap; it must be 0 or at least (m - 1) * ldc + n = \(size)")
    }
    let batch = GEMMBatch(
        first: GEMMProblem(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                           a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc),
        strideA: strideA, strideB: strideB, strideC: strideC)
    batch.first.validate()
    guard batchCount > 0 && m > 0 && n > 0 else { return }

    let multiplyAdds = m * n * k
    let threads = kernelThreadCount
    let entriesInOrder = strideC == 0 || batchCount == 1 || multiplyAdds >= threads * parallelMultiplyAdds
    if threads == 1 || batchCount * multiplyAdds < parallelMultiplyAdds
        || (entriesInOrder && multiplyAdds < parallelMultiplyAdds) {
        batch.run(entries: 0..<batchCount)
    } else if entriesInOrder {
        // Each GEMM is large enough to keep every core busy by itself, or all of them write the
        // same C and so must run one after another.
        for index in 0..<batchCount {
            batch.entry(index).runInParallel(threads: threads)
        }
    } else {
        // Each piece is a contiguous range of batch entries that reuses one workspace. There are
        // several pieces per core for the reason given at `GEMMProblem.runInParallel`.
        let pieces = min(batchCount, threads * piecesPerThread)
        parallelFor(iterations: pieces) { piece in
            batch.run(entries: batchCount * piece / pieces..<batchCount * (piece + 1) / pieces)
        }
    }
}

/// The GEMMs of one `sgemmBatched` call.
private struct GEMMBatch: @unchecked Sendable {
    let first: GEMMProblem
    let strideA: Int
    let strideB: Int
    let strideC: Int

    /// Returns GEMM number `index` of the batch.
    func entry(_ index: Int) -> GEMMProblem {
        var problem = first
        problem.a = first.a + index * strideA
        problem.b = first.b + index * strideB
        problem.c = first.c + index * strideC
        return problem
    }

    /// Computes the GEMMs numbered `entries` one after another on the calling thread.
    func run(entries: Range<Int>) {
        guard !entries.isEmpty else { return }
        let workspace = GEMMWorkspace(for: first, packsB: true)
        defer { workspace.deallocate() }
        for index in entries {
            entry(index).run(workspace: workspace, packedB: nil)
        }
    }
}

/// One GEMM call's arguments, or the part of them that one worker computes.
///
/// It is `@unchecked Sendable` so that parallel tasks can share it. Sharing is safe
/// because the workers only read A and B, and each writes a disjoint set of rows, columns or batch
/// entries of C.
private struct GEMMProblem: @unchecked Sendable {
    var transposeA: Bool
    var transposeB: Bool
    var m: Int
    var n: Int
    var k: Int
    var a: UnsafePointer<Float>
    var lda: Int
    var b: UnsafePointer<Float>
    var ldb: Int
    var beta: Float
    var c: UnsafeMutablePointer<Float>
    var ldc: Int

    /// Stops with a message naming the argument when a size, leading dimension or beta is invalid.
    func validate() {
        precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: sizes must be non-negative, got m \(m), n \(n), k \(k)")
        precondition(beta == 0 || beta == 1, "sgemm: beta must be 0 or 1, got \(beta)")
        let widthA = transposeA ? m : k
        let widthB = transposeB ? k : n
        precondition(lda >= max(1, widthA),
                     "sgemm: lda \(lda) is smaller than the width \(widthA) of the stored A (transposeA \(transposeA))")
        precondition(ldb >= max(1, widthB),
                     "sgemm: ldb \(ldb) is smaller than the width \(widthB) of the stored B (transposeB \(transposeB))")
        precondition(ldc >= max(1, n), "sgemm: ldc \(ldc) is smaller than n \(n)")
    }

    /// Row stride and k stride of op(A) in the stored A.
    var strideOfA: (row: Int, depth: Int) { transposeA ? (1, lda) : (lda, 1) }

    /// Computes the problem on up to `threads` cores, in up to `piecesPerThread` pieces per core.
    ///
    /// The pieces are ranges of rows of C, so that no two of them write the same cache line except
    /// where their rows meet. All of op(B) is packed once before they start (by all cores, when it
    /// is large), and every piece reads it. `parallelFor` hands the pieces out one at a time. A core
    /// that starts late (a worker that had gone to sleep takes tens of microseconds to wake) or that
    /// is busy with another process therefore takes fewer pieces instead of delaying the whole call.
    /// A C with too few rows for two pieces is cut into column ranges instead, each packing its own
    /// columns.
    func runInParallel(threads: Int) {
        let rowPanels = (m + panelRows - 1) / panelRows
        let rowPieces = min(threads * piecesPerThread, rowPanels / minimumPiecePanels)
        if rowPieces < 2 {
            runByColumns(threads: threads)
            return
        }

        let packedB = PackedB(for: self)
        defer { packedB.deallocate() }
        parallelFor(iterations: rowPieces) { piece in
            let firstRow = rowPanels * piece / rowPieces * panelRows
            let endRow = min(m, rowPanels * (piece + 1) / rowPieces * panelRows)
            var part = self
            part.m = endRow - firstRow
            part.a = a + firstRow * strideOfA.row
            part.c = c + firstRow * ldc
            let workspace = GEMMWorkspace(for: part, packsB: false)
            defer { workspace.deallocate() }
            part.run(workspace: workspace, packedB: packedB)
        }
    }

    /// Computes the problem in column ranges at least `minimumPieceColumns` wide, on up to
    /// `threads` cores, or on the calling thread when C is too narrow to share.
    private func runByColumns(threads: Int) {
        let columnPanels = (n + panelWidth - 1) / panelWidth
        let panelsPerPiece = max(1, minimumPieceColumns / panelWidth)
        let pieces = min(threads * piecesPerThread, columnPanels / panelsPerPiece)
        if pieces < 2 {
            runOnCurrentThread()
            return
        }
        parallelFor(iterations: pieces) { piece in
            let firstColumn = columnPanels * piece / pieces * panelWidth
            let endColumn = min(n, columnPanels * (piece + 1) / pieces * panelWidth)
            var part = self
            part.n = endColumn - firstColumn
            part.b = b + (transposeB ? firstColumn * ldb : firstColumn)
            part.c = c + firstColumn
            part.runOnCurrentThread()
        }
    }

    /// Computes the whole problem on the calling thread with a fresh workspace.
    func runOnCurrentThread() {
        guard m > 0 && n > 0 else { return }
        let workspace = GEMMWorkspace(for: self, packsB: true)
        defer { workspace.deallocate() }
        run(workspace: workspace, packedB: nil)
    }

    /// One block of op(B) as the kernels consume it: `panelColumns` columns in packed panels, then
    /// `dotColumns` columns handled as dot products.
    struct BlockOfB {
        let column: Int
        let depth: Int
        let depthCount: Int
        let panelColumns: Int
        let dotColumns: Int

        /// Offset of the dot product columns from the start of the packed block: the size of its
        /// panels, whose last one is padded to a whole vector.
        var dotColumnsOffset: Int {
            let fullPanels = panelColumns / panelWidth
            let leftover = panelColumns - fullPanels * panelWidth
            let paddedWidth = fullPanels * panelWidth + (leftover > 0 ? packedPanelWidth(columns: leftover) : 0)
            return depthCount * paddedWidth
        }

        /// Floats that the packed block takes, rounded up to 64 bytes so that the next block's
        /// panels stay aligned for vector loads.
        var packedCount: Int {
            let count = dotColumnsOffset + depthCount * dotColumns
            return (count + 15) / 16 * 16
        }
    }

    /// Calls `body` on every block of op(B), column blocks outside and k blocks inside, in the
    /// order that `run` multiplies them.
    func forEachBlockOfB(_ body: (BlockOfB) -> Void) {
        var column = 0
        while column < n {
            let width = min(columnBlock, n - column)
            // A few trailing columns are cheaper as dot products of A rows with B columns than as a
            // mostly zero panel. The dot products need A rows contiguous in k.
            let leftoverColumns = width % panelWidth
            let dotColumns = !transposeA && leftoverColumns <= maxDotColumns ? leftoverColumns : 0
            var depth = 0
            while depth < k {
                let depthCount = min(kBlock, k - depth)
                body(BlockOfB(column: column, depth: depth, depthCount: depthCount,
                              panelColumns: width - dotColumns, dotColumns: dotColumns))
                depth += depthCount
            }
            column += width
        }
    }

    /// Packs one block of op(B) at `packed`, laid out as `BlockOfB` describes.
    func pack(_ block: BlockOfB, into packed: UnsafeMutablePointer<Float>) {
        packB(transposed: transposeB, b: b, ldb: ldb, depth: block.depth, depthCount: block.depthCount,
              column: block.column, width: block.panelColumns, into: packed)
        if block.dotColumns > 0 {
            packColumns(transposed: transposeB, b: b, ldb: ldb, depth: block.depth, depthCount: block.depthCount,
                        column: block.column + block.panelColumns, count: block.dotColumns,
                        into: packed + block.dotColumnsOffset)
        }
    }

    /// Computes the whole problem on the calling thread. B comes from `packedB` when given, and is
    /// packed block by block into `workspace` otherwise.
    func run(workspace: GEMMWorkspace, packedB: PackedB?) {
        guard m > 0 && n > 0 else { return }
        if k == 0 {
            if beta == 0 {
                for row in 0..<m { (c + row * ldc).update(repeating: 0, count: n) }
            }
            return
        }

        let (rowStrideA, depthStrideA) = strideOfA
        var offset = 0
        forEachBlockOfB { block in
            let blockB: UnsafeMutablePointer<Float>
            if let packedB {
                blockB = packedB.base + offset
                offset += block.packedCount
            } else {
                blockB = workspace.packedB
                pack(block, into: blockB)
            }
            // Later k blocks add to what the first one wrote, whatever the caller's beta.
            let accumulate = block.depth > 0 || beta == 1

            var row = 0
            while row < m {
                let height = min(rowBlock, m - row)
                let blockA = a + row * rowStrideA + block.depth * depthStrideA
                let blockC = c + row * ldc + block.column
                if block.panelColumns > 0 {
                    multiplyBlock(a: blockA, rowStrideA: rowStrideA, depthStrideA: depthStrideA,
                                  b: UnsafePointer(blockB), height: height, width: block.panelColumns,
                                  depthCount: block.depthCount, c: blockC, accumulate: accumulate, workspace: workspace)
                }
                if block.dotColumns > 0 {
                    multiplyDotColumns(a: blockA, lda: lda, height: height, depthCount: block.depthCount,
                                       columns: UnsafePointer(blockB + block.dotColumnsOffset), count: block.dotColumns,
                                       c: blockC + block.panelColumns, ldc: ldc, accumulate: accumulate)
                }
                row += height
            }
        }
    }

    /// Computes one `height` x `width` block of C from `depthCount` k values, with B already packed.
    private func multiplyBlock(a: UnsafePointer<Float>, rowStrideA: Int, depthStrideA: Int, b: UnsafePointer<Float>,
                               height: Int, width: Int, depthCount: Int,
                               c: UnsafeMutablePointer<Float>, accumulate: Bool, workspace: GEMMWorkspace) {
        let fullRowPanels = height / panelRows
        let leftoverRows = height - fullRowPanels * panelRows

        // The last partial row panel is copied with zero rows below it, so the kernel reads no row
        // past the end of A.
        if leftoverRows > 0 {
            packPartialRowPanel(a: a + fullRowPanels * panelRows * rowStrideA, rowStride: rowStrideA,
                                depthStride: depthStrideA, rows: leftoverRows, depthCount: depthCount,
                                into: workspace.packedRows)
        }

        var column = 0
        var panelB = b
        while column < width {
            let columns = min(panelWidth, width - column)
            let narrow = columns <= Vector.scalarCount
            for panel in 0..<fullRowPanels {
                let rowA = a + panel * panelRows * rowStrideA
                let tileC = c + panel * panelRows * ldc + column
                if columns == panelWidth {
                    multiplyTile(depthCount: depthCount, a: rowA, rowStride: rowStrideA, depthStride: depthStrideA,
                                 b: panelB, c: tileC, ldc: ldc, accumulate: accumulate)
                } else {
                    multiplyPartialTile(depthCount: depthCount, a: rowA, rowStride: rowStrideA, depthStride: depthStrideA,
                                        b: panelB, narrow: narrow, c: tileC, ldc: ldc, rows: panelRows, columns: columns,
                                        accumulate: accumulate, scratch: workspace.tile)
                }
            }
            if leftoverRows > 0 {
                multiplyPartialTile(depthCount: depthCount, a: workspace.packedRows, rowStride: 1, depthStride: panelRows,
                                    b: panelB, narrow: narrow, c: c + fullRowPanels * panelRows * ldc + column, ldc: ldc,
                                    rows: leftoverRows, columns: columns, accumulate: accumulate, scratch: workspace.tile)
            }
            column += columns
            panelB += depthCount * packedPanelWidth(columns: columns)
        }
    }
}

/// Scratch memory of one thread's GEMM: one packed block of B (unless B comes packed already),
/// one partial A panel and one C tile.
private struct GEMMWorkspace {
    let packedB: UnsafeMutablePointer<Float>
    let packedRows: UnsafeMutablePointer<Float>
    let tile: UnsafeMutablePointer<Float>
    private let raw: UnsafeMutableRawPointer

    init(for problem: GEMMProblem, packsB: Bool) {
        let depth = max(1, min(kBlock, problem.k))
        let width = (min(columnBlock, max(1, problem.n)) + panelWidth - 1) / panelWidth * panelWidth
        let packedBCount = packsB ? depth * width : 0
        let packedRowsCount = depth * panelRows
        let tileCount = panelRows * panelWidth
        let total = packedBCount + packedRowsCount + tileCount
        // 64-byte alignment lets the kernels load packed B with aligned vector loads.
        raw = UnsafeMutableRawPointer.allocate(byteCount: total * MemoryLayout<Float>.stride, alignment: 64)
        packedB = raw.bindMemory(to: Float.self, capacity: total)
        packedRows = packedB + packedBCount
        tile = packedRows + packedRowsCount
    }

    func deallocate() { raw.deallocate() }
}

/// All of op(B) packed once, block after block in the order `GEMMProblem.run` reads them, for the
/// row pieces of a parallel GEMM to share. It is `@unchecked Sendable` because the pieces only
/// read it, after the calling thread has finished packing.
private struct PackedB: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    private let raw: UnsafeMutableRawPointer

    /// Allocates and packs op(B) of `problem`, sharing the panels between cores when there are
    /// enough of them.
    init(for problem: GEMMProblem) {
        var blocks: [(block: GEMMProblem.BlockOfB, offset: Int)] = []
        var total = 0
        problem.forEachBlockOfB { block in
            blocks.append((block, total))
            total += block.packedCount
        }
        raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, total) * MemoryLayout<Float>.stride, alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: max(1, total))

        // A task packs up to `packPanelsPerTask` panels of one block. The block's first task also
        // packs its dot product columns. Every task writes its own part of the buffer.
        var tasks: [(block: Int, firstPanel: Int, endPanel: Int)] = []
        for (index, item) in blocks.enumerated() {
            let panels = (item.block.panelColumns + panelWidth - 1) / panelWidth
            var first = 0
            repeat {
                let end = min(panels, first + packPanelsPerTask)
                tasks.append((index, first, end))
                first = end
            } while first < panels
        }
        let packTask = { [base] (task: (block: Int, firstPanel: Int, endPanel: Int)) in
            let (block, offset) = blocks[task.block]
            let firstColumn = task.firstPanel * panelWidth
            let endColumn = min(block.panelColumns, task.endPanel * panelWidth)
            if endColumn > firstColumn {
                // Every panel before `firstPanel` is full width, so this part starts at a whole
                // number of full panels into the block.
                packB(transposed: problem.transposeB, b: problem.b, ldb: problem.ldb, depth: block.depth,
                      depthCount: block.depthCount, column: block.column + firstColumn, width: endColumn - firstColumn,
                      into: base + offset + firstColumn * block.depthCount)
            }
            if task.firstPanel == 0 && block.dotColumns > 0 {
                packColumns(transposed: problem.transposeB, b: problem.b, ldb: problem.ldb, depth: block.depth,
                            depthCount: block.depthCount, column: block.column + block.panelColumns,
                            count: block.dotColumns, into: base + offset + block.dotColumnsOffset)
            }
        }
        if total >= parallelPackFloats {
            parallelFor(iterations: tasks.count) { packTask(tasks[$0]) }
        } else {
            for task in tasks { packTask(task) }
        }
    }

    func deallocate() { raw.deallocate() }
}

/// Returns the floats per k of a packed B panel holding `columns` columns: one vector for a last,
/// narrow panel, which the one-vector kernel handles, and two vectors otherwise.
@inline(__always)
private func packedPanelWidth(columns: Int) -> Int {
    columns <= Vector.scalarCount ? Vector.scalarCount : panelWidth
}

/// Copies rows `depth..<depth + depthCount`, columns `column..<column + width` of op(B) into
/// panels of `panelWidth` columns, the last one possibly `Vector.scalarCount` wide. A panel holds,
/// for each k in order, its values for consecutive columns, with zeros past column `width`.
@inline(__always)
private func packB(transposed: Bool, b: UnsafePointer<Float>, ldb: Int, depth: Int, depthCount: Int,
                   column: Int, width: Int, into packed: UnsafeMutablePointer<Float>) {
    var destination = packed
    var panelStart = 0
    while panelStart < width {
        let columns = min(panelWidth, width - panelStart)
        let stride = packedPanelWidth(columns: columns)
        if transposed {
            // Stored B is [n, k]: column j of op(B) is row j of the stored matrix, contiguous in k.
            for j in 0..<columns {
                let source = b + (column + panelStart + j) * ldb + depth
                for p in 0..<depthCount {
                    destination[p * stride + j] = source[p]
                }
            }
            if columns < stride {
                for p in 0..<depthCount {
                    (destination + p * stride + columns).update(repeating: 0, count: stride - columns)
                }
            }
        } else {
            var source = b + depth * ldb + column + panelStart
            if columns == panelWidth {
                for p in 0..<depthCount {
                    let low = UnsafeRawPointer(source).loadUnaligned(as: Vector.self)
                    let high = UnsafeRawPointer(source + Vector.scalarCount).loadUnaligned(as: Vector.self)
                    UnsafeMutableRawPointer(destination + p * panelWidth).storeBytes(of: low, as: Vector.self)
                    UnsafeMutableRawPointer(destination + p * panelWidth + Vector.scalarCount).storeBytes(of: high, as: Vector.self)
                    source += ldb
                }
            } else {
                for p in 0..<depthCount {
                    let row = destination + p * stride
                    row.update(from: source, count: columns)
                    (row + columns).update(repeating: 0, count: stride - columns)
                    source += ldb
                }
            }
        }
        destination += depthCount * stride
        panelStart += columns
    }
}

/// Copies columns `column..<column + count` of op(B), rows `depth..<depth + depthCount`, one after
/// another, each contiguous in k.
private func packColumns(transposed: Bool, b: UnsafePointer<Float>, ldb: Int, depth: Int, depthCount: Int,
                         column: Int, count: Int, into packed: UnsafeMutablePointer<Float>) {
    for j in 0..<count {
        let destination = packed + j * depthCount
        if transposed {
            destination.update(from: b + (column + j) * ldb + depth, count: depthCount)
        } else {
            for p in 0..<depthCount {
                destination[p] = b[(depth + p) * ldb + column + j]
            }
        }
    }
}

/// Computes `count` (at most `maxDotColumns`) columns of a `height`-row block of C as dot products
/// of rows of the untransposed A with packed B columns.
private func multiplyDotColumns(a: UnsafePointer<Float>, lda: Int, height: Int, depthCount: Int,
                                columns: UnsafePointer<Float>, count: Int,
                                c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    for i in 0..<height {
        let row = a + i * lda
        for j in 0..<count {
            let value = dot(row, columns + j * depthCount, count: depthCount)
            c[i * ldc + j] = accumulate ? c[i * ldc + j] + value : value
        }
    }
}

/// Returns the dot product of two contiguous float vectors of length `count`.
///
/// Four independent accumulators hide the multiply-add latency. They are `SIMD8<Float>` in every
/// build, not `Vector`, so that the AVX2 and AVX-512 builds add the products in the same order and
/// return the same bits.
@inline(__always)
private func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
    typealias Lanes = SIMD8<Float>
    // Loads eight floats from memory that need not be aligned.
    func load(_ pointer: UnsafePointer<Float>) -> Lanes {
        UnsafeRawPointer(pointer).loadUnaligned(as: Lanes.self)
    }
    let lanes = Lanes.scalarCount
    var sum0 = Lanes(), sum1 = Lanes(), sum2 = Lanes(), sum3 = Lanes()
    var index = 0
    while index + 4 * lanes <= count {
        sum0 = sum0.addingProduct(load(x + index), load(y + index))
        sum1 = sum1.addingProduct(load(x + index + lanes), load(y + index + lanes))
        sum2 = sum2.addingProduct(load(x + index + 2 * lanes), load(y + index + 2 * lanes))
        sum3 = sum3.addingProduct(load(x + index + 3 * lanes), load(y + index + 3 * lanes))
        index += 4 * lanes
    }
    while index + lanes <= count {
        sum0 = sum0.addingProduct(load(x + index), load(y + index))
        index += lanes
    }
    var total = ((sum0 + sum1) + (sum2 + sum3)).sum()
    while index < count {
        total = total.addingProduct(x[index], y[index])
        index += 1
    }
    return total
}

/// Copies `rows` (< `panelRows`) rows of op(A) into one panel laid out k-major, `panelRows` values
/// per k, padding the missing rows with zeros.
private func packPartialRowPanel(a: UnsafePointer<Float>, rowStride: Int, depthStride: Int, rows: Int,
                                 depthCount: Int, into packed: UnsafeMutablePointer<Float>) {
    for p in 0..<depthCount {
        for i in 0..<panelRows {
            packed[p * panelRows + i] = i < rows ? a[i * rowStride + p * depthStride] : 0
        }
    }
}

/// Computes a `rows` x `columns` corner tile into a scratch tile with a full-height kernel, then
/// adds or copies only the valid part into C.
///
/// A narrow B panel (one vector per k) goes through the one-vector kernel. When `rows` is less
/// than `panelRows`, `a` must be a packed partial panel, so that all `panelRows` rows are readable.
private func multiplyPartialTile(depthCount: Int, a: UnsafePointer<Float>, rowStride: Int, depthStride: Int,
                                 b: UnsafePointer<Float>, narrow: Bool, c: UnsafeMutablePointer<Float>, ldc: Int,
                                 rows: Int, columns: Int, accumulate: Bool, scratch: UnsafeMutablePointer<Float>) {
    if narrow {
        multiplyNarrowTile(depthCount: depthCount, a: a, rowStride: rowStride, depthStride: depthStride,
                           b: b, c: scratch, ldc: panelWidth, accumulate: false)
    } else {
        multiplyTile(depthCount: depthCount, a: a, rowStride: rowStride, depthStride: depthStride,
                     b: b, c: scratch, ldc: panelWidth, accumulate: false)
    }
    for i in 0..<rows {
        let source = scratch + i * panelWidth
        let destination = c + i * ldc
        if accumulate {
            for j in 0..<columns { destination[j] += source[j] }
        } else {
            destination.update(from: source, count: columns)
        }
    }
}

/// Computes one full `panelRows` x `panelWidth` tile: C (+)= A-panel · B-panel over `depthCount` k.
///
/// A(i, p) is `a[i * rowStride + p * depthStride]`, and the B panel is packed, `panelWidth` floats
/// per k. Two FMA pipes with a 4- or 5-cycle latency (Haswell and later, Zen 2 and later) need 8
/// to 10 independent accumulators to stay busy, and the tile has 12.
@inline(never)
private func multiplyTile(depthCount: Int, a: UnsafePointer<Float>, rowStride: Int, depthStride: Int,
                          b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    var c00 = Vector(), c01 = Vector()
    var c10 = Vector(), c11 = Vector()
    var c20 = Vector(), c21 = Vector()
    var c30 = Vector(), c31 = Vector()
    var c40 = Vector(), c41 = Vector()
    var c50 = Vector(), c51 = Vector()

    var rowA = a
    var panelB = UnsafeRawPointer(b)
    let r1 = rowStride, r2 = 2 * rowStride, r3 = 3 * rowStride, r4 = 4 * rowStride, r5 = 5 * rowStride
    for _ in 0..<depthCount {
        let b0 = panelB.load(as: Vector.self)
        let b1 = panelB.load(fromByteOffset: MemoryLayout<Vector>.stride, as: Vector.self)

        var x = Vector(repeating: rowA[0])
        c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
        x = Vector(repeating: rowA[r1])
        c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
        x = Vector(repeating: rowA[r2])
        c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
        x = Vector(repeating: rowA[r3])
        c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
        x = Vector(repeating: rowA[r4])
        c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
        x = Vector(repeating: rowA[r5])
        c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)

        rowA += depthStride
        panelB += 2 * MemoryLayout<Vector>.stride
    }

    store(c00, c01, to: c, accumulate: accumulate)
    store(c10, c11, to: c + ldc, accumulate: accumulate)
    store(c20, c21, to: c + 2 * ldc, accumulate: accumulate)
    store(c30, c31, to: c + 3 * ldc, accumulate: accumulate)
    store(c40, c41, to: c + 4 * ldc, accumulate: accumulate)
    store(c50, c51, to: c + 5 * ldc, accumulate: accumulate)
}

/// Computes one `panelRows` x `Vector.scalarCount` tile from a narrow B panel (one vector per k),
/// for the last few columns of C. Its 6 accumulators keep two FMA pipes 60 to 75% busy, which is
/// cheaper than multiplying a mostly zero, two-vector panel.
@inline(never)
private func multiplyNarrowTile(depthCount: Int, a: UnsafePointer<Float>, rowStride: Int, depthStride: Int,
                                b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    var c0 = Vector(), c1 = Vector(), c2 = Vector(), c3 = Vector(), c4 = Vector(), c5 = Vector()

    var rowA = a
    var panelB = UnsafeRawPointer(b)
    let r1 = rowStride, r2 = 2 * rowStride, r3 = 3 * rowStride, r4 = 4 * rowStride, r5 = 5 * rowStride
    for _ in 0..<depthCount {
        let b0 = panelB.load(as: Vector.self)
        c0 = c0.addingProduct(Vector(repeating: rowA[0]), b0)
        c1 = c1.addingProduct(Vector(repeating: rowA[r1]), b0)
        c2 = c2.addingProduct(Vector(repeating: rowA[r2]), b0)
        c3 = c3.addingProduct(Vector(repeating: rowA[r3]), b0)
        c4 = c4.addingProduct(Vector(repeating: rowA[r4]), b0)
        c5 = c5.addingProduct(Vector(repeating: rowA[r5]), b0)
        rowA += depthStride
        panelB += MemoryLayout<Vector>.stride
    }

    store(c0, to: c, accumulate: accumulate)
    store(c1, to: c + ldc, accumulate: accumulate)
    store(c2, to: c + 2 * ldc, accumulate: accumulate)
    store(c3, to: c + 3 * ldc, accumulate: accumulate)
    store(c4, to: c + 4 * ldc, accumulate: accumulate)
    store(c5, to: c + 5 * ldc, accumulate: accumulate)
}

/// Writes or adds one tile row of two vectors to C, which need not be aligned.
@inline(__always)
private func store(_ low: Vector, _ high: Vector, to c: UnsafeMutablePointer<Float>, accumulate: Bool) {
    store(low, to: c, accumulate: accumulate)
    store(high, to: c + Vector.scalarCount, accumulate: accumulate)
}

/// Writes or adds one vector to C, which need not be aligned.
@inline(__always)
private func store(_ value: Vector, to c: UnsafeMutablePointer<Float>, accumulate: Bool) {
    let address = UnsafeMutableRawPointer(c)
    if accumulate {
        address.storeBytes(of: value + address.loadUnaligned(as: Vector.self), as: Vector.self)
    } else {
        address.storeBytes(of: value, as: Vector.self)
    }
}

/// Measures how many floating-point operations per second one core completes in the micro-kernel's
/// fused multiply-add instructions, with no memory traffic: the ceiling that `sgemm` can approach.
///
/// Twelve independent accumulators, as in the micro-kernel, hide the multiply-add latency. A
/// multiply-add counts as two operations. Benchmarks use the result as their peak estimate.
@_spi(Benchmarks)
public func measureMultiplyAddPeak(iterations: Int) -> Double {
    // Each step maps x to 0.9999 x + 0.0001, which converges to 1, so no value overflows or
    // becomes subnormal.
    let scale = Vector(repeating: 0.999_9)
    let offset = Vector(repeating: 0.000_1)
    var a0 = Vector(repeating: 0), a1 = Vector(repeating: 1), a2 = Vector(repeating: 2), a3 = Vector(repeating: 3)
    var a4 = Vector(repeating: 4), a5 = Vector(repeating: 5), a6 = Vector(repeating: 6), a7 = Vector(repeating: 7)
    var a8 = Vector(repeating: 8), a9 = Vector(repeating: 9), a10 = Vector(repeating: 10), a11 = Vector(repeating: 11)

    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<iterations {
        a0 = offset.addingProduct(a0, scale); a1 = offset.addingProduct(a1, scale)
        a2 = offset.addingProduct(a2, scale); a3 = offset.addingProduct(a3, scale)
        a4 = offset.addingProduct(a4, scale); a5 = offset.addingProduct(a5, scale)
        a6 = offset.addingProduct(a6, scale); a7 = offset.addingProduct(a7, scale)
        a8 = offset.addingProduct(a8, scale); a9 = offset.addingProduct(a9, scale)
        a10 = offset.addingProduct(a10, scale); a11 = offset.addingProduct(a11, scale)
    }
    let total = (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11).sum()
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9

    // Using the result keeps the optimiser from removing the loop.
    precondition(total.isFinite, "measureMultiplyAddPeak: the accumulators diverged to \(total)")
    return Double(iterations) * 12 * 2 * Double(Vector.scalarCount) / max(seconds, 1e-9)
}

/// Number of floats in one vector register of the micro-kernel: 8 with AVX2, 16 with AVX-512.
@_spi(Benchmarks)
public let multiplyAddVectorLanes = Vector.scalarCount
