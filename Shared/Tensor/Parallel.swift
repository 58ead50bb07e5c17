import WorkerPool

/// The number of threads kernels split large work across, the calling thread included: one per
/// processor this process may use, or the value of `TRANSFORMER_STEPS_THREADS`.
let kernelThreadCount = ts_pool_thread_count()

/// The number of threads the kernels split large work across, for benchmarks to report.
@_spi(Benchmarks)
public var kernelThreads: Int { kernelThreadCount }

/// A pointer shared with parallel tasks. Each task writes a disjoint range, so no two threads ever
/// touch the same element. That is what makes the unchecked `Sendable` sound.
struct SharedPointer<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
}

/// Calls `body(index)` for every index in `0..<iterations`, spread over the calling thread and the
/// worker pool, and returns when every call has finished.
///
/// Indices are handed out in increasing order to whichever thread is free first, so a core that is
/// busy with another process takes fewer of them. Which thread runs an index never changes the
/// result, because every caller gives each index its own part of the output. While another parallel
/// call is running (a nested call, or a call from a second thread), all indices run on the calling
/// thread.
func parallelFor(iterations: Int, _ body: (Int) -> Void) {
    guard iterations > 1 else {
        if iterations == 1 { body(0) }
        return
    }
    withoutActuallyEscaping(body) { body in
        var task = body
        withUnsafeMutablePointer(to: &task) { pointer in
            ts_pool_run(iterations, pointer) { context, index in
                context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
            }
        }
    }
}

/// Calls `body` on consecutive ranges that cover `0..<count`, on several threads when there are at
/// least `minimumPerThread` items for each; otherwise once, on the calling thread.
@inline(__always)
func parallelRanges(count: Int, minimumPerThread: Int, _ body: (Range<Int>) -> Void) {
    let threads = min(kernelThreadCount, count / max(minimumPerThread, 1))
    if threads <= 1 {
        body(0..<count)
        return
    }
    let chunk = (count + threads - 1) / threads
    parallelFor(iterations: threads) { index in
        let start = index * chunk
        let end = min(count, start + chunk)
        if start < end { body(start..<end) }
    }
}

/// Returns consecutive ranges of at most `size` items that cover `0..<count`, the last one shorter.
///
/// Work cut this way is split the same on any number of cores, so sums over the pieces, added in
/// order, do not depend on the core count.
func chunkRanges(count: Int, size: Int) -> [Range<Int>] {
    precondition(size > 0, "chunkRanges: size must be positive, got \(size)")
    return stride(from: 0, to: count, by: size).map { $0..<min(count, $0 + size) }
}
