// swift-tools-version:6.0
import Foundation
import PackageDescription

// The Tensor module holds every hot loop, so it is optimised even in debug builds: an -Onone
// GEMM ran about 256x slower than release on the development machine. On x86-64 it is also
// built for AVX2 and FMA, without which `SIMD8<Float>` multiply-adds become a library call per
// lane. Set TRANSFORMER_STEPS_PORTABLE=1 to build for the baseline x86-64 CPU instead.
//
// On a Linux machine whose CPU has AVX-512 (Intel since Skylake-SP, AMD since Zen 4), the GEMM
// micro-kernel is built for 512-bit vectors, which made a training step about 1.5x faster here.
// Both builds add each output element's products in the same order (the tile kernels in k order,
// the dot products of the last few columns in 8-float lanes), so they print the same output.
// TRANSFORMER_STEPS_AVX512=0 or =1 overrides the detection; programs check the CPU at start-up.
let portableBuild = Context.environment["TRANSFORMER_STEPS_PORTABLE"] == "1"
let avx512Build: Bool = {
    switch Context.environment["TRANSFORMER_STEPS_AVX512"] {
    case "1": return true
    case "0": return false
    default:
        // The subsets of Skylake-SP, which the -target-cpu below assumes.
        guard let cpuInfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = cpuInfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        return ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains)
    }
}()

var tensorFlags = ["-O", "-enforce-exclusivity=unchecked"]
// StepKit checks at start-up, from code built for the baseline CPU, that the CPU has what Tensor needs.
var stepKitSettings: [SwiftSetting] = []
#if arch(x86_64)
if avx512Build && !portableBuild {
    tensorFlags += ["-target-cpu", "skylake-avx512", "-D", "TENSOR_AVX512"]
    stepKitSettings += [.define("TENSOR_NEEDS_AVX2_FMA"), .define("TENSOR_NEEDS_AVX512")]
} else if !portableBuild {
    tensorFlags += ["-target-cpu", "haswell"]
    stepKitSettings.append(.define("TENSOR_NEEDS_AVX2_FMA"))
}
#endif

let language: [SwiftSetting] = [.swiftLanguageMode(.v5)]

/// The eleven steps in order: folder suffix, library module and executable.
let steps: [(number: String, name: String, module: String)] = [
    ("00", "Bigram", "BigramStep"),
    ("01", "Tokenizer", "TokenizerStep"),
    ("02", "Dataset", "DatasetStep"),
    ("03", "Embeddings", "EmbeddingsStep"),
    ("04", "MLP", "MLPStep"),
    ("05", "SelfAttention", "SelfAttentionStep"),
    ("06", "MultiHeadAttention", "MultiHeadAttentionStep"),
    ("07", "TransformerBlock", "TransformerBlockStep"),
    ("08", "Transformer", "TransformerStep"),
    ("09", "Training", "TrainingStep"),
    ("10", "Generation", "GenerationStep"),
]

var targets: [Target] = [
    .target(
        name: "CPUFeatures",
        path: "Shared/CPUFeatures"
    ),
    // The thread pool behind the Tensor kernels' parallel loops; -O2 in debug builds too.
    .target(
        name: "WorkerPool",
        path: "Shared/WorkerPool",
        cSettings: [.unsafeFlags(["-O2"])]
    ),
    .target(
        name: "Tensor",
        dependencies: ["WorkerPool"],
        path: "Shared/Tensor",
        swiftSettings: language + [.unsafeFlags(tensorFlags)]
    ),
    .target(
        name: "StepKit",
        dependencies: ["CPUFeatures", "WorkerPool"],
        path: "Shared/StepKit",
        resources: [.copy("Resources/default-corpus.txt")],
        swiftSettings: language + stepKitSettings
    ),
    .executableTarget(
        name: "TensorBench",
        dependencies: ["Tensor", "StepKit", "TrainingStep", "GenerationStep"],
        path: "Benchmarks/TensorBench",
        swiftSettings: language
    ),
    .testTarget(
        name: "TensorTests",
        dependencies: ["Tensor"],
        path: "Tests/TensorTests",
        resources: [.copy("Fixtures")],
        swiftSettings: language
    ),
    .testTarget(
        name: "StepKitTests",
        dependencies: ["StepKit"],
        path: "Tests/StepKitTests",
        swiftSettings: language
    ),
]

var products: [Product] = []
for (index, step) in steps.enumerated() {
    let folder = "Steps/Step\(step.number)\(step.name)"
    let previous: [Target.Dependency] = index == 0
        ? ["Tensor", "StepKit"]
        : [.target(name: steps[index - 1].module)]
    targets.append(.target(
        name: step.module,
        dependencies: previous,
        path: "\(folder)/Library",
        swiftSettings: language
    ))
    targets.append(.executableTarget(
        name: "Step\(step.number)\(step.name)",
        dependencies: [.target(name: step.module), "Tensor", "StepKit"],
        path: "\(folder)/Program",
        swiftSettings: language
    ))
    targets.append(.testTarget(
        name: "Step\(step.number)\(step.name)Tests",
        dependencies: [.target(name: step.module), "Tensor", "StepKit"],
        path: "Tests/Step\(step.number)\(step.name)Tests",
        swiftSettings: language
    ))
    products.append(.executable(name: "Step\(step.number)\(step.name)", targets: ["Step\(step.number)\(step.name)"]))
}

let package = Package(
    name: "TransformerSteps",
    platforms: [.macOS(.v13)],
    products: products,
    targets: targets
)
