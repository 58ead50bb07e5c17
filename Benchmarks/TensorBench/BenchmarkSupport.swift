import Dispatch
import Foundation
@_spi(Benchmarks) import Tensor

/// Errors in the command line of TensorBench.
enum BenchmarkError: Error, CustomStringConvertible {
    case unknownCommand(String)
    case unknownOption(String)
    case invalidValue(option: String, value: String, rule: String)
    case missingCorpus(path: String)

    var description: String {
        switch self {
        case .unknownCommand(let name):
            return "unknown command '\(name)'; run 'TensorBench help' to list the commands"
        case .unknownOption(let name):
            return "unknown option '\(name)'; run 'TensorBench help' to list the options"
        case .invalidValue(let option, let value, let rule):
            return "invalid value '\(value)' for \(option): it must be \(rule)"
        case .missingCorpus(let path):
            return "the training benchmark needs the corpus at \(path), which could not be read; "
                + "run `make data` first, or pass --data PATH"
        }
    }
}

/// Repetition plan shared by every measurement, and by the numpy reference script.
struct TimingPlan {
    /// Timed samples per measurement; the median is reported.
    var samples = 7
    /// Seconds that one sample lasts at least.
    var sampleTime = 0.1

    /// Returns the rate, in operations per second, of each of `samples` timed runs of `body`.
    ///
    /// One warm-up call comes first. The repetition count is doubled until a run lasts 20 ms, then
    /// scaled so that one sample lasts about `sampleTime` seconds.
    func rates(operations: Double, _ body: () -> Void) -> [Double] {
        body()
        var repetitions = 1
        var elapsed = 0.0
        while true {
            elapsed = seconds(repeating: repetitions, body)
            if elapsed >= 0.02 { break }
            repetitions *= 2
        }
        repetitions = max(1, Int((Double(repetitions) * sampleTime / elapsed).rounded()))

        return (0..<samples).map { _ in
            operations * Double(repetitions) / seconds(repeating: repetitions, body)
        }
    }

    private func seconds(repeating count: Int, _ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<count { body() }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}

/// Returns the middle value of `values`, or the mean of the two middle values for an even count.
func median(_ values: [Double]) -> Double {
    precondition(!values.isEmpty, "median: no values")
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// CPU model and core count of the machine running the benchmark.
struct MachineDescription {
    let cpuModel: String
    let cores: Int
    let vectorFeatures: [String]

    init() {
        cores = ProcessInfo.processInfo.activeProcessorCount
        var model = "unknown CPU"
        var features: [String] = []
        if let cpuInfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) {
            var family = "", number = ""
            for line in cpuInfo.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2 else { continue }
                switch parts[0] {
                case "model name" where model == "unknown CPU": model = parts[1]
                case "cpu family" where family.isEmpty: family = parts[1]
                case "model" where number.isEmpty: number = parts[1]
                case "flags" where features.isEmpty:
                    let flags = Set(parts[1].split(separator: " ").map(String.init))
                    features = ["avx2", "fma", "avx512f"].filter { flags.contains($0) }
                default: break
                }
            }
            if !family.isEmpty { model += " (family \(family), model \(number))" }
        }
        cpuModel = model
        vectorFeatures = features
    }

    /// The CPU, its cores and the threads our kernels use, for the first line of a report.
    var summary: String {
        "\(cpuModel), \(cores) cores, \(kernelThreads) kernel thread\(kernelThreads == 1 ? "" : "s")"
    }
}

/// Returns the 1-minute load average from /proc/loadavg, or nil where that file does not exist.
func oneMinuteLoadAverage() -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
    return text.split(separator: " ").first.flatMap { Double($0) }
}

/// Per-core results that `concurrentPerform` workers write, each into its own slot only.
private struct ResultSlots: @unchecked Sendable {
    let base: UnsafeMutablePointer<Double>
}

/// Estimates the peak float32 rate of all cores together, in FLOP/s: the best of three runs of
/// `measureMultiplyAddPeak` on every core at once.
func measurePeak(cores: Int) -> Double {
    let slots = ResultSlots(base: .allocate(capacity: cores))
    defer { slots.base.deallocate() }
    var best = 0.0
    for _ in 0..<3 {
        DispatchQueue.concurrentPerform(iterations: cores) { core in
            slots.base[core] = measureMultiplyAddPeak(iterations: 20_000_000)
        }
        best = max(best, UnsafeBufferPointer(start: slots.base, count: cores).reduce(0, +))
    }
    return best
}

/// Pads `text` with spaces to `width` characters, on the left when `right` is true.
func aligned(_ text: String, _ width: Int, right: Bool = false) -> String {
    let padding = String(repeating: " ", count: max(0, width - text.count))
    return right ? padding + text : text + padding
}

/// The exit status and the combined standard output and standard error of a reference script.
struct ScriptResult {
    let status: Int32
    let output: String
}

/// Runs `python arguments…` through /usr/bin/env and waits for it, or returns nil when it cannot start.
///
/// OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed for the child only: older OpenBLAS builds need
/// them on some CPUs, and they slow a current one down. Both output streams share one pipe, so a
/// chatty standard error cannot block the child while standard output is read.
func runReferenceScript(python: String, arguments: [String]) -> ScriptResult? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [python] + arguments
    var environment = ProcessInfo.processInfo.environment
    environment["OPENBLAS_CORETYPE"] = nil
    environment["OPENBLAS_L2_SIZE"] = nil
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    do {
        try process.run()
    } catch {
        return nil
    }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ScriptResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
}
