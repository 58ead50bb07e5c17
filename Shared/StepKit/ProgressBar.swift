import Foundation

/// A one-line progress display on standard error, redrawn in place:
///
///     training [████████        ]  150/300 steps  50.0%  6.40k tokens/s  0:12 elapsed  ETA 0:12  loss 2.31
///
/// It writes only when standard error is a terminal, so redirected output and logs stay clean,
/// and redraws at most 10 times a second, so it costs little inside a training loop.
///
///     let progress = ProgressBar(total: steps, label: "training", rateUnit: "tokens", rateUnitsPerCount: Double(batchSize * blockSize))
///     for step in 1...steps {
///         …
///         progress.update(step, status: "loss " + Format.fixed(loss, digits: 2))
///     }
///     progress.finish()
public final class ProgressBar {
    /// The count at which the work is complete.
    public let total: Int
    /// Text before the bar, such as "training".
    public let label: String
    /// The unit of the count, such as "steps".
    public let unit: String
    /// The unit of the rate, such as "tokens"; the rate is shown per second.
    public let rateUnit: String
    /// How many rate units one count stands for, such as the tokens in one step's batch.
    public let rateUnitsPerCount: Double

    private let isEnabled: Bool
    private let write: (String) -> Void
    private let now: () -> Double
    private let columns: () -> Int

    private let startTime: Double
    private var lastDrawTime: Double?
    private var completed = 0
    private var status: String?
    private var isFinished = false

    /// Creates a progress bar at count 0 and starts its clock.
    /// - Parameters:
    ///   - total: the count at which the work is complete, at least 0.
    ///   - label: text before the bar.
    ///   - unit: the unit of the count.
    ///   - rateUnit: the unit of the rate; `nil` uses `unit`.
    ///   - rateUnitsPerCount: rate units per count, so a bar counting steps can show tokens per second.
    public convenience init(
        total: Int, label: String = "", unit: String = "steps",
        rateUnit: String? = nil, rateUnitsPerCount: Double = 1
    ) {
        let clock = ContinuousClock()
        let start = clock.now
        self.init(
            total: total, label: label, unit: unit, rateUnit: rateUnit, rateUnitsPerCount: rateUnitsPerCount,
            isEnabled: Terminal.isStandardErrorTerminal,
            write: { writeToStandardError($0) },
            now: {
                let elapsed = start.duration(to: clock.now).components
                return Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
            },
            columns: { Terminal.standardErrorColumns }
        )
    }

    /// Creates a progress bar with its output, clock (in seconds) and terminal width injected.
    init(
        total: Int, label: String, unit: String, rateUnit: String?, rateUnitsPerCount: Double,
        isEnabled: Bool, write: @escaping (String) -> Void, now: @escaping () -> Double, columns: @escaping () -> Int
    ) {
        precondition(total >= 0, "ProgressBar total must be at least 0, got \(total)")
        precondition(rateUnitsPerCount > 0, "ProgressBar rateUnitsPerCount must be greater than 0, got \(rateUnitsPerCount)")
        self.total = total
        self.label = label
        self.unit = unit
        self.rateUnit = rateUnit ?? unit
        self.rateUnitsPerCount = rateUnitsPerCount
        self.isEnabled = isEnabled
        self.write = write
        self.now = now
        self.columns = columns
        self.startTime = now()
    }

    /// Sets the count of completed work and the status text, redrawing when the last redraw is at
    /// least 0.1 s old or the count reached `total`.
    public func update(_ completed: Int, status: String? = nil) {
        guard !isFinished else { return }
        self.completed = min(max(completed, 0), total)
        if let status { self.status = status }

        let time = now()
        if let lastDrawTime, time - lastDrawTime < 0.1, self.completed < total {
            return
        }
        draw(at: time)
    }

    /// Adds `count` to the completed work, as `update(_:status:)` does with the new count.
    public func advance(by count: Int = 1, status: String? = nil) {
        update(completed + count, status: status)
    }

    /// Draws the final state and ends the line; later updates are ignored.
    public func finish(status: String? = nil) {
        guard !isFinished else { return }
        if let status { self.status = status }
        draw(at: now())
        isFinished = true
        if isEnabled { write("\n") }
    }

    private func draw(at time: Double) {
        lastDrawTime = time
        guard isEnabled else { return }
        let text = line(elapsed: time - startTime)
        // "\r" returns to the line start and "ESC [K" clears what a longer earlier line left.
        write("\r" + Terminal.truncate(text, toWidth: max(columns() - 1, 10)) + "\u{1B}[K")
    }

    /// Returns the progress line for the current count after `elapsed` seconds.
    func line(elapsed: Double) -> String {
        let fraction = total == 0 ? 1 : Double(completed) / Double(total)
        var parts: [String] = []

        let bar = "[" + Self.bar(fraction: fraction, width: 16) + "]"
        parts.append(label.isEmpty ? bar : label + " " + bar)
        parts.append("\(completed)/\(total) \(unit)")
        parts.append(Format.percent(fraction))

        if elapsed > 0 && completed > 0 {
            let rate = Double(completed) * rateUnitsPerCount / elapsed
            parts.append(Format.compact(rate) + " \(rateUnit)/s")
        }
        parts.append(Format.clock(seconds: elapsed) + " elapsed")
        if completed > 0 && completed < total {
            let remaining = elapsed / Double(completed) * Double(total - completed)
            parts.append("ETA " + Format.clock(seconds: remaining))
        }
        if let status, !status.isEmpty {
            parts.append(status)
        }
        return parts.joined(separator: "  ")
    }

    /// Returns a bar of `width` columns filled to `fraction`, in eighths of a column.
    static func bar(fraction: Double, width: Int) -> String {
        let partials: [Character] = ["▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        let eighths = Int((min(max(fraction, 0), 1) * Double(width * 8)).rounded(.down))
        let full = eighths / 8
        var text = String(repeating: "█", count: full)
        if full < width {
            let remainder = eighths % 8
            text += remainder == 0 ? " " : String(partials[remainder - 1])
            text += String(repeating: " ", count: width - full - 1)
        }
        return text
    }
}
