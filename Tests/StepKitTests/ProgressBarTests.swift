import Testing
@testable import StepKit

/// A progress bar with a hand-driven clock that records what it writes.
private final class Recorder {
    var output: [String] = []
    var time = 0.0

    func makeBar(total: Int, enabled: Bool = true) -> ProgressBar {
        ProgressBar(
            total: total, label: "training", unit: "steps", rateUnit: "tokens", rateUnitsPerCount: 512,
            isEnabled: enabled, write: { self.output.append($0) }, now: { self.time }, columns: { 200 })
    }
}

@Suite("ProgressBar")
struct ProgressBarTests {
    @Test("line at half way, hand-worked")
    func halfWayLine() {
        let recorder = Recorder()
        let bar = recorder.makeBar(total: 300)
        recorder.time = 12
        bar.update(150, status: "loss 2.31")
        // Rate 150 * 512 / 12 = 6400 tokens/s; ETA 12 / 150 * 150 = 12 s.
        let expected = "training [████████        ]  150/300 steps  50.0%  6.40k tokens/s  0:12 elapsed  ETA 0:12  loss 2.31"
        #expect(recorder.output == ["\r" + expected + "\u{1B}[K"])
    }

    @Test("redraws at most ten times a second")
    func throttling() {
        let recorder = Recorder()
        let bar = recorder.makeBar(total: 10)
        bar.update(1)
        recorder.time = 0.05
        bar.update(2)
        recorder.time = 0.2
        bar.update(3)
        #expect(recorder.output.count == 2)
        // Reaching the total always draws.
        recorder.time = 0.21
        bar.update(10)
        #expect(recorder.output.count == 3)
    }

    @Test("finish ends the line once")
    func finish() {
        let recorder = Recorder()
        let bar = recorder.makeBar(total: 4)
        bar.advance(by: 4)
        bar.finish(status: "done")
        bar.finish()
        bar.update(2)
        #expect(recorder.output.count == 3)
        #expect(recorder.output.last == "\n")
        #expect(recorder.output[1].contains("4/4 steps  100.0%"))
        #expect(recorder.output[1].contains("done"))
    }

    @Test("disabled bar writes nothing")
    func disabled() {
        let recorder = Recorder()
        let bar = recorder.makeBar(total: 4, enabled: false)
        bar.update(2)
        bar.finish()
        #expect(recorder.output.isEmpty)
    }

    @Test("bar fills in eighths")
    func barEighths() {
        #expect(ProgressBar.bar(fraction: 0, width: 2) == "  ")
        #expect(ProgressBar.bar(fraction: 0.3, width: 2) == "▌ ")
        #expect(ProgressBar.bar(fraction: 0.5, width: 2) == "█ ")
        #expect(ProgressBar.bar(fraction: 1, width: 2) == "██")
    }
}
