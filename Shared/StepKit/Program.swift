import CPUFeatures
import WorkerPool
import Foundation

/// Runs a step program's body and exits: the entry point of every step's `main.swift`.
///
///     import StepKit
///
///     runStepProgram {
///         var flags = FlagParser(program: "Step00Bigram", summary: "…")
///         let standard = flags.standardFlags()
///         try flags.parse(CommandLine.arguments.dropFirst())
///         let corpus = try standard.loadCorpus()
///         …
///     }
///
/// Before the body runs, the CPU check of `exitUnlessCPUSupportsTensorBuild()` and the check of
/// `exitUnlessThreadSettingIsValid()` run. Then:
/// - a `HelpRequest` thrown by `FlagParser.parse(_:)` prints the usage to standard output and exits 0;
/// - any other error prints `error: <message>` to standard error and exits 1;
/// - a body that returns exits 0.
public func runStepProgram(_ body: () throws -> Void) -> Never {
    exitUnlessCPUSupportsTensorBuild()
    exitUnlessThreadSettingIsValid()

    do {
        try body()
    } catch let request as HelpRequest {
        print(request.usage)
        exit(0)
    } catch {
        writeToStandardError("error: \(errorMessage(for: error))\n")
        exit(1)
    }
    exit(0)
}

/// Exits with status 1 and an explanation when the Tensor module was compiled for CPU features
/// this CPU lacks; otherwise returns.
///
/// On x86-64, Tensor is compiled for AVX2 and FMA unless `TRANSFORMER_STEPS_PORTABLE=1` was set
/// at build time, and such a build would crash with an illegal instruction on older CPUs. This
/// check calls only the C target `CPUFeatures`, which is compiled for the baseline CPU, so it runs
/// safely before any Tensor code. `runStepProgram` calls it first, so step programs need not.
public func exitUnlessCPUSupportsTensorBuild() {
    #if TENSOR_NEEDS_AVX2_FMA
    if ts_cpu_supports_tensor_build() == 0 {
        writeToStandardError(missingCPUFeaturesMessage(program: currentProgramName()) + "\n")
        exit(1)
    }
    #endif
    #if TENSOR_NEEDS_AVX512
    if ts_cpu_supports_avx512() == 0 {
        writeToStandardError("""
            error: this build of TransformerSteps was made with TRANSFORMER_STEPS_AVX512=1 and needs a CPU with AVX-512 \
            (F, CD, BW, DQ and VL), which this CPU lacks. Build again without that variable: swift build

            """)
        exit(1)
    }
    #endif
}

/// Exits with status 1 and an explanation when the environment variable `TRANSFORMER_STEPS_THREADS`
/// is set to something other than a whole number from 1 to `TS_POOL_MAX_THREADS` (64); otherwise
/// returns.
///
/// The variable sets how many threads the tensor kernels use. The Tensor module ignores a value it
/// cannot use, so programs check it here, before the first kernel runs.
public func exitUnlessThreadSettingIsValid() {
    if let problem = threadSettingProblem(ProcessInfo.processInfo.environment["TRANSFORMER_STEPS_THREADS"]) {
        writeToStandardError("error: \(problem)\n")
        exit(1)
    }
}

/// Returns why `value` of `TRANSFORMER_STEPS_THREADS` is invalid, or nil when it is valid or unset.
func threadSettingProblem(_ value: String?) -> String? {
    guard let value, !value.isEmpty else { return nil }
    let maximum = Int(TS_POOL_MAX_THREADS)
    if let count = Int(value), (1...maximum).contains(count) { return nil }
    return "TRANSFORMER_STEPS_THREADS is \"\(value)\", but it must be a whole number from 1 to \(maximum): the number "
        + "of threads the tensor kernels use. Set it to 1 for a single thread, or unset it to use every "
        + "processor: unset TRANSFORMER_STEPS_THREADS"
}

/// Returns the explanation printed when the CPU lacks AVX2 or FMA, naming the portable build.
func missingCPUFeaturesMessage(program: String) -> String {
    """
    error: this build of TransformerSteps needs a CPU with AVX2 and FMA, and this CPU lacks at least one of them.
    Build a portable version for any x86-64 CPU, which runs the tensor code more slowly, and run it the same way:
        TRANSFORMER_STEPS_PORTABLE=1 swift build
        TRANSFORMER_STEPS_PORTABLE=1 swift run \(program)
    """
}

/// Returns the text to print for an error: the `errorDescription` of a `LocalizedError`, the
/// localized description of Foundation errors, and `String(describing:)` otherwise, which uses
/// `description` for errors such as `FlagError` that conform to `CustomStringConvertible`.
public func errorMessage(for error: Error) -> String {
    if let error = error as? LocalizedError, let description = error.errorDescription {
        return description
    }
    if error is CocoaError || type(of: error) is NSError.Type {
        return error.localizedDescription
    }
    return String(describing: error)
}

/// Returns the name the program was started with, without its folder.
func currentProgramName() -> String {
    let path = CommandLine.arguments.first ?? "program"
    return URL(fileURLWithPath: path).lastPathComponent
}

/// Writes `text` to standard error unbuffered, so it appears before the process exits. Standard
/// output is flushed first, so in a combined log the text follows everything printed before it.
func writeToStandardError(_ text: String) {
    fflush(stdout)
    FileHandle.standardError.write(Data(text.utf8))
}
