import Foundation
import GenerationStep
import Tensor
import TrainingStep
import TransformerStep

/// Times training steps of the `shakespeare-cpu` preset beside the project's PyTorch reference
/// (Tools/torch_gpt_reference.py, same model, optimizer, schedule and batch shape, 2 threads), in one run.
struct TrainingBenchmark {
    /// Timed steps on each side, after `warmupSteps` untimed ones.
    var steps = 200
    /// Steps left out of the median on each side (allocation and cache warm-up).
    var warmupSteps = 20
    /// Whether to run the PyTorch side.
    var runsReference = true
    /// The corpus file.
    var dataPath = "data/tinyshakespeare.txt"
    /// Tokens generated when timing generation.
    var generatedTokens = 300

    init(arguments: [String]) throws {
        var remaining = arguments[...]
        while let option = remaining.popFirst() {
            switch option {
            case "--steps":
                guard let value = remaining.popFirst().flatMap(Int.init), value >= 1 else {
                    throw BenchmarkError.invalidValue(option: option, value: remaining.first ?? "", rule: "a whole number of at least 1")
                }
                steps = value
            case "--no-reference":
                runsReference = false
            case "--data":
                guard let value = remaining.popFirst() else {
                    throw BenchmarkError.invalidValue(option: option, value: "", rule: "a path to the corpus")
                }
                dataPath = value
            default:
                throw BenchmarkError.unknownOption(option)
            }
        }
    }

    func run() throws {
        guard let text = try? String(contentsOfFile: dataPath, encoding: .utf8) else {
            throw BenchmarkError.missingCorpus(path: dataPath)
        }
        let config = try TrainingConfig.preset(named: "shakespeare-cpu")
        let trainer = try Trainer(config: config, text: text)
        let flopsPerStep = trainer.config.model.trainingFLOPs(batchSize: config.batchSize)
        let machine = MachineDescription()
        print("Training step, shakespeare-cpu preset: \(config.model.numLayers) layers, \(config.model.numHeads) heads, width \(config.model.embedDim), block \(config.model.blockSize), batch \(config.batchSize)")
        print("Machine: \(machine.summary); load average \(oneMinuteLoadAverage().map { String(format: "%.2f", $0) } ?? "unknown")")
        print("Model: \(trainer.model.parameterCount) parameters, \(String(format: "%.2f", flopsPerStep / 1e9)) GFLOP per step (6 per weight per token plus attention)")

        // Ours.
        var times: [Double] = []
        var residentAfterWarmup = 0.0
        for index in 0..<(warmupSteps + steps) {
            let start = DispatchTime.now().uptimeNanoseconds
            try trainer.trainStep()
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if index >= warmupSteps { times.append(elapsed) }
            if index == warmupSteps { residentAfterWarmup = currentResidentMiB() }
        }
        let residentAtEnd = currentResidentMiB()
        let ours = median(times)
        let ourPeak = peakResidentMiB()

        // Generation, without a key/value cache: every new token reruns the cropped context.
        var generator = SeededGenerator(seed: 7)
        let prompt = trainer.tokenizer.encode("ROMEO:\n")
        let generationStart = DispatchTime.now().uptimeNanoseconds
        _ = try generate(
            model: trainer.model, prompt: prompt, maxNewTokens: generatedTokens, vocabSize: trainer.tokenizer.vocabSize,
            settings: SamplingSettings(strategy: .sample, temperature: 1), generator: &generator)
        let generationSeconds = Double(DispatchTime.now().uptimeNanoseconds - generationStart) / 1e9

        let peak = measurePeak(cores: machine.cores)
        let tokensPerStep = Double(trainer.tokensPerStep)
        print("")
        print("Ours:    median \(format(ours * 1000)) ms/step over \(steps) steps, \(format(tokensPerStep / ours, digits: 0)) tokens/s, \(format(flopsPerStep / ours / 1e9)) GFLOP/s = \(format(100 * flopsPerStep / ours / peak, digits: 0))% of a \(format(peak / 1e9, digits: 0)) GFLOP/s peak measured just before on \(machine.cores) cores")
        print("         peak RSS \(format(ourPeak, digits: 0)) MiB; RSS after warm-up \(format(residentAfterWarmup, digits: 0)) MiB, after \(steps) more steps \(format(residentAtEnd, digits: 0)) MiB")
        print("         generation: \(format(Double(generatedTokens) / generationSeconds, digits: 0)) tokens/s (\(generatedTokens) tokens, context up to \(config.model.blockSize), no key/value cache)")

        guard runsReference else { return }
        guard let reference = runReference(steps: steps) else { return }
        let theirs = reference.medianMilliseconds / 1000
        print("PyTorch: median \(format(reference.medianMilliseconds)) ms/step, \(format(tokensPerStep / theirs, digits: 0)) tokens/s, \(format(flopsPerStep / theirs / 1e9)) GFLOP/s; peak RSS \(format(reference.peakMiB, digits: 0)) MiB (torch \(reference.version), \(reference.threads) threads)")
        print("Ratio:   ours / PyTorch = \(format(ours / theirs, digits: 2))× the time per step, \(format(ourPeak / reference.peakMiB, digits: 2))× the peak memory")
    }

    private struct ReferenceResult {
        var medianMilliseconds: Double
        var peakMiB: Double
        var version: String
        var threads: Int
    }

    /// Runs the PyTorch reference for the same number of steps; returns nil after printing why when it cannot run.
    private func runReference(steps: Int) -> ReferenceResult? {
        let script = "Tools/torch_gpt_reference.py"
        let arguments = [script, "--data", dataPath, "--steps", String(warmupSteps + steps), "--skip", String(warmupSteps), "--threads", "2"]
        let python = ProcessInfo.processInfo.environment["PYTHON"] ?? "python3"
        guard let result = runReferenceScript(python: python, arguments: arguments), result.status == 0,
              let line = result.output.split(separator: "\n").last(where: { $0.hasPrefix("RESULT ") }) else {
            print("PyTorch: skipped (python3 with torch is needed: pip install torch numpy; set PYTHON to choose the interpreter)")
            return nil
        }
        guard let data = line.dropFirst("RESULT ".count).data(using: .utf8),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let milliseconds = json["median_ms_per_step"] as? Double,
              let peak = json["peak_rss_mib"] as? Double else {
            print("PyTorch: skipped (could not read the reference's RESULT line: \(line.prefix(200)))")
            return nil
        }
        return ReferenceResult(
            medianMilliseconds: milliseconds, peakMiB: peak,
            version: json["torch"] as? String ?? "?", threads: json["threads"] as? Int ?? 0)
    }
}

/// Returns the peak resident set size of this process in MiB (Linux reports kilobytes, macOS bytes).
func peakResidentMiB() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
    #else
    getrusage(RUSAGE_SELF, &usage)
    return Double(usage.ru_maxrss) / 1_048_576
    #endif
}

/// Returns the current resident set size in MiB from /proc/self/statm, or 0 where it does not exist.
func currentResidentMiB() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
          let pages = text.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return 0 }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
}

/// Returns `value` with `digits` decimals.
func format(_ value: Double, digits: Int = 1) -> String {
    String(format: "%.\(digits)f", value)
}
