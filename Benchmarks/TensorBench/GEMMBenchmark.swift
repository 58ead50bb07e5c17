import Foundation
@_spi(Benchmarks) import Tensor

/// One GEMM measured by `TensorBench gemm`: C[m, n] = op(A)[m, k] · op(B)[k, n], `batch` times.
struct GEMMShape {
    let name: String
    var batch = 1
    let m: Int
    let n: Int
    let k: Int
    var transposeA = false
    var transposeB = false

    var layout: String { (transposeA ? "Aᵀ" : "A") + "·" + (transposeB ? "Bᵀ" : "B") }
    var operations: Double { 2 * Double(batch) * Double(m) * Double(n) * Double(k) }
    /// Key that matches this shape to a line of the numpy reference script.
    var key: String { "\(batch),\(m),\(n),\(k),\(transposeA ? 1 : 0),\(transposeB ? 1 : 0)" }
}

/// Speed of `sgemm` and `sgemmBatched` on the matrix shapes of a small GPT (batch 12 × block 64 =
/// 768 rows, width 128, MLP width 512, 66 tokens with `[UNK]`, 4 heads of size 32), beside numpy's
/// BLAS.
struct GEMMBenchmark {
    static let shapes: [GEMMShape] = [
        GEMMShape(name: "attention projection", m: 768, n: 128, k: 128),
        GEMMShape(name: "MLP up", m: 768, n: 512, k: 128),
        GEMMShape(name: "MLP down", m: 768, n: 128, k: 512),
        GEMMShape(name: "LM head, X·Eᵀ, vocab 66", m: 768, n: 66, k: 128, transposeB: true),
        GEMMShape(name: "MLP up backward, dX = dY·Wᵀ", m: 768, n: 128, k: 512, transposeB: true),
        GEMMShape(name: "MLP up backward, dW = Xᵀ·dY", m: 128, n: 512, k: 768, transposeA: true),
        GEMMShape(name: "square 1024", m: 1024, n: 1024, k: 1024),
        GEMMShape(name: "attention scores, 48 × Q·Kᵀ", batch: 48, m: 64, n: 64, k: 32, transposeB: true),
    ]

    var timing = TimingPlan()
    var compareWithNumpy = true

    init(arguments: [String]) throws {
        var remaining = arguments[...]
        while let option = remaining.popFirst() {
            switch option {
            case "--samples":
                let value = remaining.popFirst() ?? ""
                guard let count = Int(value), count >= 1 else {
                    throw BenchmarkError.invalidValue(option: option, value: value, rule: "a whole number of at least 1")
                }
                timing.samples = count
            case "--sample-time":
                let value = remaining.popFirst() ?? ""
                guard let seconds = Double(value), seconds > 0, seconds <= 60 else {
                    throw BenchmarkError.invalidValue(option: option, value: value, rule: "a number of seconds in (0, 60]")
                }
                timing.sampleTime = seconds
            case "--no-reference":
                compareWithNumpy = false
            default:
                throw BenchmarkError.unknownOption(option)
            }
        }
    }

    /// Measures every shape, runs the numpy reference, and prints the table.
    func run() throws {
        let machine = MachineDescription()
        print("Machine: \(machine.summary), CPU flags: \(machine.vectorFeatures.joined(separator: " "))")
        printLoad(when: "before", cores: machine.cores)
        let peak = measurePeak(cores: machine.cores)
        print("Peak estimate: \(format(peak / 1e9)) GFLOP/s, the multiply-add rate of \(multiplyAddVectorLanes)-float vectors measured on \(machine.cores) cores at once")
        print("Timing: median of \(timing.samples) timed samples of at least \(timing.sampleTime) s each, after one warm-up call")
        print("Measuring sgemm...")

        let ours = Self.shapes.map { shape in Rate(samples: measure(shape)) }

        var reference: [String: Rate] = [:]
        if compareWithNumpy {
            switch NumpyReference(timing: timing, threads: machine.cores).run(shapes: Self.shapes) {
            case .success(let description, let rates):
                print("Reference: \(description)")
                reference = rates
            case .unavailable(let reason):
                print("Reference: not measured, \(reason)")
            }
        }
        printLoad(when: "after", cores: machine.cores)

        print("")
        print("GFLOP/s: the median of the samples, and the best one; ours/numpy compares medians.")
        let header = aligned("shape", 30) + aligned("layout", 7) + aligned("batch", 6, right: true)
            + aligned("m", 6, right: true) + aligned("n", 6, right: true) + aligned("k", 6, right: true)
            + aligned("GFLOP/s", 9, right: true) + aligned("best", 8, right: true) + aligned("% peak", 8, right: true)
            + aligned("numpy", 9, right: true) + aligned("best", 8, right: true) + aligned("ours/numpy", 12, right: true)
        print(header)
        print(String(repeating: "-", count: header.count))
        for (shape, rate) in zip(Self.shapes, ours) {
            var line = aligned(shape.name, 30) + aligned(shape.layout, 7) + aligned("\(shape.batch)", 6, right: true)
                + aligned("\(shape.m)", 6, right: true) + aligned("\(shape.n)", 6, right: true)
                + aligned("\(shape.k)", 6, right: true) + aligned(format(rate.median / 1e9), 9, right: true)
                + aligned(format(rate.best / 1e9), 8, right: true)
                + aligned(String(format: "%.0f%%", 100 * rate.median / peak), 8, right: true)
            if let theirs = reference[shape.key] {
                line += aligned(format(theirs.median / 1e9), 9, right: true) + aligned(format(theirs.best / 1e9), 8, right: true)
                line += aligned(String(format: "%.2f", rate.median / theirs.median), 12, right: true)
            } else {
                line += aligned("-", 9, right: true) + aligned("-", 8, right: true) + aligned("-", 12, right: true)
            }
            print(line)
        }
    }

    /// Prints the load average, with a warning when other processes keep the cores busy.
    private func printLoad(when: String, cores: Int) {
        guard let load = oneMinuteLoadAverage() else { return }
        var line = "Load average \(when) measuring: \(String(format: "%.2f", load))"
        if load > 0.5 * Double(cores) {
            line += ". Other processes compete for the cores, so every figure is low and noisy, numpy's most of all"
        }
        print(line)
    }

    /// Returns the FLOP/s of each timed sample of one shape, on operands filled with fixed values.
    private func measure(_ shape: GEMMShape) -> [Double] {
        let storedA = shape.m * shape.k
        let storedB = shape.k * shape.n
        let storedC = shape.m * shape.n
        let a = filledMatrix(count: shape.batch * storedA, seed: 1)
        let b = filledMatrix(count: shape.batch * storedB, seed: 2)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: shape.batch * storedC)
        defer {
            a.deallocate()
            b.deallocate()
            c.deallocate()
        }
        let lda = shape.transposeA ? shape.m : shape.k
        let ldb = shape.transposeB ? shape.k : shape.n

        return timing.rates(operations: shape.operations) {
            if shape.batch == 1 {
                sgemm(transposeA: shape.transposeA, transposeB: shape.transposeB, m: shape.m, n: shape.n, k: shape.k,
                      a: a, lda: lda, b: b, ldb: ldb, beta: 0, c: c, ldc: shape.n)
            } else {
                sgemmBatched(batchCount: shape.batch, transposeA: shape.transposeA, transposeB: shape.transposeB,
                             m: shape.m, n: shape.n, k: shape.k, a: a, lda: lda, strideA: storedA,
                             b: b, ldb: ldb, strideB: storedB, beta: 0, c: c, ldc: shape.n, strideC: storedC)
            }
        }
    }

    /// Allocates `count` floats in [-1, 1) from a linear congruential generator started at `seed`.
    private func filledMatrix(count: Int, seed: UInt64) -> UnsafeMutablePointer<Float> {
        let values = UnsafeMutablePointer<Float>.allocate(capacity: count)
        var state = seed
        for index in 0..<count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            values[index] = Float(state >> 40) / Float(1 << 23) - 1
        }
        return values
    }

    private func format(_ gigaflops: Double) -> String { String(format: "%.1f", gigaflops) }
}

/// Median and best of the timed samples of one measurement, in FLOP/s.
struct Rate {
    let median: Double
    let best: Double

    init(median: Double, best: Double) {
        self.median = median
        self.best = best
    }

    init(samples: [Double]) {
        self.init(median: TensorBench.median(samples), best: samples.max() ?? 0)
    }
}

/// The numpy run of Tools/numpy_gemm.py, started as a child process.
struct NumpyReference {
    /// Outcome of one run: a description of numpy's set-up with a rate per shape key, or the reason
    /// why nothing was measured.
    enum Outcome {
        case success(description: String, rates: [String: Rate])
        case unavailable(String)
    }

    let timing: TimingPlan
    let threads: Int

    /// Runs the script on `shapes` and parses its `info` and `gemm` lines.
    func run(shapes: [GEMMShape]) -> Outcome {
        guard let script = locateScript() else {
            return .unavailable("Tools/numpy_gemm.py was not found beside the sources or in the current directory")
        }
        let environment = ProcessInfo.processInfo.environment
        let python = environment["PYTHON"] ?? "python3"

        var arguments = [script, "--threads", "\(threads)", "--samples", "\(timing.samples)",
                         "--sample-time", "\(timing.sampleTime)"]
        for shape in shapes { arguments += ["--shape", shape.key] }
        guard let result = runReferenceScript(python: python, arguments: arguments) else {
            return .unavailable("/usr/bin/env could not start \(python)")
        }
        let lines = result.output.split(separator: "\n").map(String.init)

        var description = ""
        var rates: [String: Rate] = [:]
        for line in lines {
            let fields = keyValues(line)
            if line.hasPrefix("info ") {
                description = "numpy \(fields["numpy"] ?? "?"), \(fields["blas"] ?? "?") \(fields["blas_version"] ?? "?"), "
                    + "\(fields["threads"] ?? "?") threads set through \(fields["thread_control"] ?? "?"), \(fields["python"] ?? python)"
            } else if line.hasPrefix("gemm "), let median = fields["median_gflops"].flatMap(Double.init),
                      let best = fields["best_gflops"].flatMap(Double.init) {
                let key = ["batch", "m", "n", "k", "transpose_a", "transpose_b"].map { fields[$0] ?? "?" }.joined(separator: ",")
                rates[key] = Rate(median: median * 1e9, best: best * 1e9)
            }
        }
        if result.status == 127 {
            let place = python.contains("/") ? "" : " on PATH"
            return .unavailable("\(python) was not found\(place) (set PYTHON to choose an interpreter)")
        }
        if result.status != 0 || rates.isEmpty {
            let errorLine = lines.first { $0.hasPrefix("error ") }.map { String($0.dropFirst(6)) }
            let reason = errorLine ?? lines.last ?? "no output"
            return .unavailable("\(python) \(script) exited with status \(result.status): \(reason)")
        }
        return .success(description: description, rates: rates)
    }

    /// Returns the script's path: first beside this source file's package, then in the current directory.
    private func locateScript() -> String? {
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [
            packageRoot.appendingPathComponent("Tools/numpy_gemm.py").path,
            FileManager.default.currentDirectoryPath + "/Tools/numpy_gemm.py",
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    private func keyValues(_ line: String) -> [String: String] {
        var fields: [String: String] = [:]
        for word in line.split(separator: " ") {
            let pair = word.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
        }
        return fields
    }
}
