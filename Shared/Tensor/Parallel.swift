import Dispatch
import Foundation

/// The number of threads kernels split large work across: the active processor count.
let kernelThreadCount = max(1, ProcessInfo.processInfo.activeProcessorCount)

/// A pointer shared with `concurrentPerform` workers. Each worker writes a disjoint range, so no two
/// threads ever touch the same element; that is what makes the unchecked `Sendable` sound.
struct SharedPointer<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
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
    withoutActuallyEscaping(body) { body in
        let chunk = (count + threads - 1) / threads
        let work = UncheckedBox(body)
        DispatchQueue.concurrentPerform(iterations: threads) { index in
            let start = index * chunk
            let end = min(count, start + chunk)
            if start < end { work.value(start..<end) }
        }
    }
}

/// Carries a non-`Sendable` closure into `concurrentPerform`; the callers only write disjoint ranges.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
