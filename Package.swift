// swift-tools-version:6.0
import PackageDescription

// The Tensor module holds every hot loop, so it is optimised even in debug builds: an -Onone
// GEMM ran about 256x slower than release on the development machine. On x86-64 it is also
// built for AVX2 and FMA, without which `SIMD8<Float>` multiply-adds become a library call per
// lane. Set TRANSFORMER_STEPS_PORTABLE=1 to build for the baseline x86-64 CPU instead.
let portableBuild = Context.environment["TRANSFORMER_STEPS_PORTABLE"] == "1"

var tensorFlags = ["-O", "-enforce-exclusivity=unchecked"]
// StepKit checks at start-up, from code built for the baseline CPU, that the CPU has what Tensor needs.
var stepKitSettings: [SwiftSetting] = []
#if arch(x86_64)
if !portableBuild {
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
    .target(
        name: "Tensor",
        path: "Shared/Tensor",
        swiftSettings: language + [.unsafeFlags(tensorFlags)]
    ),
    .target(
        name: "StepKit",
        dependencies: ["CPUFeatures"],
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
