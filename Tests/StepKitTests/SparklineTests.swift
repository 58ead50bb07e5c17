import Testing
@testable import StepKit

@Suite("Sparkline")
struct SparklineTests {
    @Test("one bar per level")
    func eightLevels() {
        let line = Sparkline([0.0, 1, 2, 3, 4, 5, 6, 7])
        #expect(line.bars == "▁▂▃▄▅▆▇█")
        #expect(line.minimum == 0)
        #expect(line.maximum == 7)
    }

    @Test("resampled to run means")
    func resampledToWidth() {
        // Runs of four: means 1.5, 5.5, 9.5, 13.5. Scaled to 0...7 over 1.5...13.5 they are
        // 0, 2.33, 4.67 and 7, which round to levels 0, 2, 5 and 7.
        let line = Sparkline((0..<16).map(Double.init), width: 4)
        #expect(line.bars == "▁▃▆█")
        #expect(line.minimum == 0)
        #expect(line.maximum == 15)
    }

    @Test("uneven runs")
    func unevenRuns() {
        // Five values in two runs: indices 0..<2 and 2..<5.
        #expect(Sparkline.resample([1, 3, 5, 7, 9], width: 2) == [2, 7])
        #expect(Sparkline.resample([1, 3], width: 5) == [1, 3])
    }

    @Test("loss curve with description")
    func lossCurve() {
        // (v - 2.3) / 1.9 * 7: 7, 2.95, 1.11, 0.37, 0 -> levels 7, 3, 1, 0, 0.
        let line = Sparkline([4.2, 3.1, 2.6, 2.4, 2.3])
        #expect(line.bars == "█▄▂▁▁")
        #expect(line.description == "█▄▂▁▁  min 2.3  max 4.2")
    }

    @Test("constant, non-finite and empty input")
    func edgeCases() {
        #expect(Sparkline([2.0, 2, 2]).bars == "▄▄▄")
        #expect(Sparkline([1.0, .nan, 3]).bars == "▁ █")
        let empty = Sparkline([Double]())
        #expect(empty.bars == "")
        #expect(empty.minimum == nil)
        #expect(empty.description == "")
    }

    @Test("float input")
    func floatInput() {
        #expect(Sparkline([Float(1), 2]).bars == "▁█")
    }
}
