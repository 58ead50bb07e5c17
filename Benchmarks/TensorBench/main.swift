// TensorBench measures the speed of the Tensor module's kernels; each subcommand measures one kernel.
import Foundation
import StepKit

let usage = """
    Usage: TensorBench [COMMAND] [OPTIONS]

    Commands:
      gemm    float32 matrix multiply (sgemm) GFLOP/s on small-GPT shapes, beside numpy's BLAS (default)
      train   one training step of the shakespeare-cpu preset, beside the PyTorch reference, and generation speed
      all     gemm, then train (what `make bench` runs)
      help    print this text

    Options for gemm:
      --samples N        timed samples per shape; the table shows their median (default 7)
      --sample-time S    seconds that one sample lasts at least (default 0.1)
      --no-reference     skip the numpy comparison

    Options for train:
      --steps N          timed steps on each side (default 200)
      --data PATH        the corpus (default data/tinyshakespeare.txt)
      --no-reference     skip the PyTorch comparison

    Environment:
      PYTHON             interpreter that runs Tools/numpy_gemm.py and Tools/torch_gpt_reference.py
                         (default: python3 found on PATH)
      TRANSFORMER_STEPS_THREADS
                         threads our kernels use, 1 to 64 (default: one per processor)
    """

exitUnlessCPUSupportsTensorBuild()
exitUnlessThreadSettingIsValid()

var arguments = Array(CommandLine.arguments.dropFirst())
var command = "gemm"
if let first = arguments.first, !first.hasPrefix("-") || ["--help", "-h"].contains(first) {
    command = first
    arguments.removeFirst()
}

do {
    switch command {
    case "gemm":
        try GEMMBenchmark(arguments: arguments).run()
    case "train":
        try TrainingBenchmark(arguments: arguments).run()
    case "all":
        try GEMMBenchmark(arguments: []).run()
        print("")
        try TrainingBenchmark(arguments: arguments).run()
    case "help", "--help", "-h":
        print(usage)
    default:
        throw BenchmarkError.unknownCommand(command)
    }
} catch {
    FileHandle.standardError.write(Data("TensorBench: \(error)\n".utf8))
    exit(2)
}
