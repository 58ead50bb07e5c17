import Dispatch
import Foundation
import Testing
@testable import Tensor

/// Counts, for each index, how many times a parallel task ran it. Tasks add under a lock, so the
/// counts are exact whichever threads ran them.
private final class IndexCounts: @unchecked Sendable {
    private var counts: [Int]
    private let lock = NSLock()

    init(count: Int) { counts = Array(repeating: 0, count: count) }

    func record(_ index: Int) {
        lock.lock()
        counts[index] += 1
        lock.unlock()
    }

    var values: [Int] {
        lock.lock()
        defer { lock.unlock() }
        return counts
    }
}

/// Runs `parallelFor` over `iterations` indices and expects each index to have run exactly once.
private func expectEachIndexOnce(iterations: Int) {
    let counts = IndexCounts(count: iterations)
    parallelFor(iterations: iterations) { index in counts.record(index) }
    #expect(counts.values == Array(repeating: 1, count: iterations))
}

@Suite("Worker pool")
struct ParallelTests {
    @Test("parallelFor runs every index exactly once", arguments: [0, 1, 2, 3, 7, 64, 1000])
    func everyIndexOnce(iterations: Int) {
        expectEachIndexOnce(iterations: iterations)
    }

    @Test("back-to-back calls of different sizes each run their own indices")
    func backToBackCalls() {
        // The spinning workers serve many short calls in a row. A late worker must never run an
        // index of a newer call with an older task.
        var generator = SeededGenerator(seed: 17)
        for _ in 0..<2_000 {
            expectEachIndexOnce(iterations: Int.random(in: 1...40, using: &generator))
        }
    }

    @Test("a call made inside a task runs all its indices")
    func nestedCall() {
        let outer = IndexCounts(count: 4)
        let inner = IndexCounts(count: 4 * 5)
        parallelFor(iterations: 4) { first in
            outer.record(first)
            parallelFor(iterations: 5) { second in inner.record(first * 5 + second) }
        }
        #expect(outer.values == Array(repeating: 1, count: 4))
        #expect(inner.values == Array(repeating: 1, count: 20))
    }

    @Test("calls from several threads at once each run all their indices")
    func concurrentCallers() {
        let callers = 4
        let counts = IndexCounts(count: callers * 300 * 16)
        DispatchQueue.concurrentPerform(iterations: callers) { caller in
            for round in 0..<300 {
                let offset = (caller * 300 + round) * 16
                parallelFor(iterations: 16) { index in counts.record(offset + index) }
            }
        }
        #expect(counts.values == Array(repeating: 1, count: callers * 300 * 16))
    }

    @Test("GEMM gives the same bits on one thread", arguments: [(m: 300, n: 200, k: 300), (m: 7, n: 700, k: 230)])
    func gemmIndependentOfThreads(size: (m: Int, n: Int, k: Int)) {
        // A GEMM called inside a task finds the pool busy and runs every piece on its own thread.
        // Comparing it with a top-level call, which is split by rows (by columns for 7 rows), shows
        // that splitting never changes a result. While another test uses the pool, both calls run
        // on one thread, and the check compares like with like.
        var generator = SeededGenerator(seed: 5)
        let a = (0..<size.m * size.k).map { _ in Float.random(in: -1...1, using: &generator) }
        let b = (0..<size.k * size.n).map { _ in Float.random(in: -1...1, using: &generator) }
        func multiply() -> [Float] {
            var c = [Float](repeating: 0, count: size.m * size.n)
            sgemm(transposeA: false, transposeB: false, m: size.m, n: size.n, k: size.k,
                  a: a, lda: size.k, b: b, ldb: size.n, beta: 0, c: &c, ldc: size.n)
            return c
        }
        let split = multiply()
        var serial: [Float] = []
        parallelFor(iterations: 2) { index in
            if index == 0 { serial = multiply() }
        }
        #expect(serial == split)
    }

    @Test("parallelRanges covers 0..<count with disjoint ranges", arguments: [0, 1, 5, 100, 1001])
    func rangesCoverCount(count: Int) {
        let counts = IndexCounts(count: count)
        parallelRanges(count: count, minimumPerThread: 10) { range in
            for index in range { counts.record(index) }
        }
        #expect(counts.values == Array(repeating: 1, count: count))
    }
}
