import Foundation
import Testing
import Tensor

// Checks a whole GPT built from Tensor ops against PyTorch. The fixture `gpt_parity.safetensors`
// comes from Tools/make_parity_fixture.py: a 2-layer, 2-head GPT with embedDim 8, vocabSize 7 and
// blockSize 4 in float32, with pre-LayerNorm blocks, exact GELU and a head tied to the token
// embedding. It contains the weights, the inputs and targets, PyTorch's logits and loss, and the
// gradient of the loss for every parameter as `grad.<name>`.
//
// Tolerance: 1e-4 absolute on every value. In the fixture |logits| ≤ 2.75, the loss is 3.10 and
// |gradient| ≤ 1.16, so float32 rounds each operation's result by about 1e-7. Measured with
// torch 2.15.0 on x86-64, PyTorch's float32 results differ from its float64 results by at most
// 4.4e-7, and this model's results differ from PyTorch's by at most 1.2e-6, so 1e-4 leaves about
// 100x headroom. Errors in the ops move values by far more: ReLU in place of GELU by 0.3 in the
// logits, a missing softmax scale in the backward pass by 0.17 in a gradient.

/// The model configuration stored as JSON in the fixture's `config` metadata key.
private struct ParityConfig: Decodable {
    let vocabSize: Int
    let embedDim: Int
    let numHeads: Int
    let blockSize: Int
    let batchSize: Int
    let numLayers: Int
}

/// An error in the fixture file itself, as opposed to a mismatch with PyTorch.
private struct FixtureError: Error, CustomStringConvertible {
    let description: String
}

/// The PyTorch reference loaded from the fixture.
private struct ParityFixture {
    let config: ParityConfig
    /// Every array in the file by name.
    let arrays: [String: NamedArray]
    /// The parameter names, sorted, each with a matching `grad.<name>` array.
    let parameterNames: [String]
    let inputs: [Int]
    let targets: [Int]

    static func load() throws -> ParityFixture {
        guard let url = Bundle.module.url(forResource: "gpt_parity", withExtension: "safetensors", subdirectory: "Fixtures") else {
            throw FixtureError(description: "gpt_parity.safetensors is missing from the test bundle. Create it with Tools/make_parity_fixture.py.")
        }
        let file = try SafeTensors.read(from: url)

        guard let configText = file.metadata["config"] else {
            throw FixtureError(description: "gpt_parity.safetensors has no `config` metadata key. Regenerate it with Tools/make_parity_fixture.py.")
        }
        let config = try JSONDecoder().decode(ParityConfig.self, from: Data(configText.utf8))

        var arrays: [String: NamedArray] = [:]
        for array in file.arrays { arrays[array.name] = array }

        let gradientPrefix = "grad."
        let parameterNames = file.arrays.map(\.name)
            .filter { $0.hasPrefix(gradientPrefix) }
            .map { String($0.dropFirst(gradientPrefix.count)) }
            .sorted()
        for name in parameterNames where arrays[name] == nil {
            throw FixtureError(description: "gpt_parity.safetensors has grad.\(name) but no parameter \(name)")
        }
        let missing = expectedParameterNames(config).filter { !parameterNames.contains($0) }
        guard missing.isEmpty else {
            throw FixtureError(description: "gpt_parity.safetensors lacks the parameters or gradients of \(missing)")
        }

        return ParityFixture(
            config: config, arrays: arrays, parameterNames: parameterNames,
            inputs: try integers(arrays, "ids"), targets: try integers(arrays, "targets"))
    }

    /// Returns the name of every parameter the model reads, sorted, in PyTorch's naming.
    static func expectedParameterNames(_ config: ParityConfig) -> [String] {
        var names = ["wte.weight", "wpe.weight", "lnf.weight", "lnf.bias"]
        for layer in 0..<config.numLayers {
            for layerName in ["ln1", "query", "key", "value", "proj", "ln2", "fc1", "fc2"] {
                names.append("blocks.\(layer).\(layerName).weight")
                names.append("blocks.\(layer).\(layerName).bias")
            }
        }
        return names.sorted()
    }

    /// Reads token ids that the fixture stores as whole float32 numbers.
    private static func integers(_ arrays: [String: NamedArray], _ name: String) throws -> [Int] {
        guard let array = arrays[name] else {
            throw FixtureError(description: "gpt_parity.safetensors has no array `\(name)`")
        }
        return try array.values.map { value in
            guard let id = Int(exactly: value) else {
                throw FixtureError(description: "`\(name)` contains \(value), which is not a whole-number token id")
            }
            return id
        }
    }

    /// Returns the array named `name`, or records a failure and returns nil.
    func array(_ name: String) -> NamedArray? {
        let array = arrays[name]
        #expect(array != nil, "gpt_parity.safetensors has no array `\(name)`")
        return array
    }
}

/// How the attention matrix is formed from the raw scores.
enum CausalAttentionKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    /// `causalSoftmax(scale:)`: scaling, mask and softmax fused in one op.
    case fused
    /// `* scale`, then `causalMasked()`, then `softmax()`.
    case maskThenSoftmax

    var testDescription: String { rawValue }
}

/// A GPT built from Tensor ops with the fixture's weights as leaves that require gradients.
private struct ParityModel {
    let config: ParityConfig
    let attentionKind: CausalAttentionKind
    /// Whether the input lookup reads a detached copy of `wte.weight`, so only the head sends it gradient.
    let detachesInputEmbedding: Bool
    /// Every parameter by its PyTorch name, such as `blocks.0.query.weight`.
    let parameters: [String: Tensor]

    init(fixture: ParityFixture, attentionKind: CausalAttentionKind, detachesInputEmbedding: Bool = false) {
        config = fixture.config
        self.attentionKind = attentionKind
        self.detachesInputEmbedding = detachesInputEmbedding
        var parameters: [String: Tensor] = [:]
        for name in fixture.parameterNames {
            let array = fixture.arrays[name]!
            parameters[name] = Tensor(shape: array.shape, data: array.values, requiresGrad: true)
        }
        self.parameters = parameters
    }

    func parameter(_ name: String) -> Tensor {
        guard let tensor = parameters[name] else {
            preconditionFailure("ParityModel: the fixture has no parameter \(name)")
        }
        return tensor
    }

    /// Returns x·Wᵀ + b for the PyTorch Linear layer `prefix`, whose weight is `[out, in]`.
    func linear(_ x: Tensor, _ prefix: String) -> Tensor {
        Tensor.matmul(x, parameter(prefix + ".weight"), transposeB: true) + parameter(prefix + ".bias")
    }

    func layerNorm(_ x: Tensor, _ prefix: String) -> Tensor {
        Tensor.layerNorm(x, gain: parameter(prefix + ".weight"), bias: parameter(prefix + ".bias"), epsilon: 1e-5)
    }

    /// Returns causal multi-head self-attention of `x` `[B, T, C]`, projected back to `[B, T, C]`.
    func attention(_ x: Tensor, _ prefix: String) -> Tensor {
        let batchSize = x.shape[0], time = x.shape[1]
        let headSize = config.embedDim / config.numHeads

        // [B, T, C] -> [B, T, numHeads, headSize] -> [B, numHeads, T, headSize]
        func heads(_ y: Tensor) -> Tensor {
            y.reshaped([batchSize, time, config.numHeads, headSize]).permuted([0, 2, 1, 3])
        }
        let query = heads(linear(x, prefix + ".query"))
        let key = heads(linear(x, prefix + ".key"))
        let value = heads(linear(x, prefix + ".value"))

        let scores = Tensor.matmul(query, key, transposeB: true)
        let scale = 1 / Float(headSize).squareRoot()
        let attention: Tensor
        switch attentionKind {
        case .fused:
            attention = scores.causalSoftmax(scale: scale)
        case .maskThenSoftmax:
            attention = (scores * scale).causalMasked().softmax()
        }

        let mixed = Tensor.matmul(attention, value)
        let merged = mixed.permuted([0, 2, 1, 3]).reshaped([batchSize, time, config.embedDim])
        return linear(merged, prefix + ".proj")
    }

    /// Returns the logits `[B, T, vocabSize]` for token ids laid out `[B, T]`.
    func logits(inputs: [Int]) -> Tensor {
        let time = config.blockSize
        let batchSize = inputs.count / time
        let tokenTable = parameter("wte.weight")

        let inputTable = detachesInputEmbedding ? tokenTable.detached() : tokenTable
        let tokens = Tensor.embedding(inputTable, ids: inputs, idsShape: [batchSize, time])
        let positions = Tensor.embedding(parameter("wpe.weight"), ids: Array(0..<time), idsShape: [time])
        var x = tokens + positions

        for layer in 0..<config.numLayers {
            let prefix = "blocks.\(layer)"
            x = x + attention(layerNorm(x, prefix + ".ln1"), prefix)
            let hidden = linear(layerNorm(x, prefix + ".ln2"), prefix + ".fc1").gelu()
            x = x + linear(hidden, prefix + ".fc2")
        }

        // The head reuses the token table, so wte.weight gets gradient from both ends of the model.
        return Tensor.matmul(layerNorm(x, "lnf"), tokenTable, transposeB: true)
    }
}

/// Returns the position and size of the largest absolute difference between two arrays of equal length.
private func largestDifference(_ actual: [Float], _ expected: [Float]) -> (index: Int, value: Float) {
    var largest: (index: Int, value: Float) = (0, 0)
    for i in 0..<min(actual.count, expected.count) {
        let difference = abs(actual[i] - expected[i])
        // A NaN never compares greater, so it is caught here instead of hiding behind a 0 difference.
        if difference.isNaN { return (i, .nan) }
        if difference > largest.value { largest = (i, difference) }
    }
    return largest
}

@Suite("GPT parity with PyTorch")
struct ParityTests {
    static let tolerance: Float = 1e-4

    /// Runs the Swift model forward and backward and returns it with its logits and loss.
    private func run(_ kind: CausalAttentionKind) throws -> (fixture: ParityFixture, model: ParityModel, logits: Tensor, loss: Tensor) {
        let fixture = try ParityFixture.load()
        let model = ParityModel(fixture: fixture, attentionKind: kind)
        let logits = model.logits(inputs: fixture.inputs)
        let loss = Tensor.crossEntropy(logits: logits, targets: fixture.targets)
        loss.backward()
        return (fixture, model, logits, loss)
    }

    @Test("Fixture matches its configuration")
    func fixtureShape() throws {
        let fixture = try ParityFixture.load()
        let config = fixture.config
        let tokenCount = config.batchSize * config.blockSize

        #expect(fixture.inputs.count == tokenCount)
        #expect(fixture.targets.count == tokenCount)
        #expect(fixture.inputs.allSatisfy { (0..<config.vocabSize).contains($0) })
        #expect(fixture.targets.allSatisfy { (0..<config.vocabSize).contains($0) })
        #expect(fixture.array("wte.weight")?.shape == [config.vocabSize, config.embedDim])
        #expect(fixture.array("blocks.0.fc1.weight")?.shape == [4 * config.embedDim, config.embedDim])
        #expect(fixture.parameterNames == ParityFixture.expectedParameterNames(config))
    }

    @Test("Logits match PyTorch", arguments: CausalAttentionKind.allCases)
    func logits(kind: CausalAttentionKind) throws {
        let (fixture, _, logits, _) = try run(kind)
        guard let expected = fixture.array("logits") else { return }

        #expect(logits.shape == expected.shape)
        let difference = largestDifference(logits.data, expected.values)
        #expect(
            difference.value <= Self.tolerance,
            "logits differ by \(difference.value) at flat index \(difference.index): \(logits.data[difference.index]) vs PyTorch \(expected.values[difference.index])")
    }

    @Test("Loss matches PyTorch", arguments: CausalAttentionKind.allCases)
    func loss(kind: CausalAttentionKind) throws {
        let (fixture, _, _, loss) = try run(kind)
        guard let expected = fixture.array("loss") else { return }

        #expect(expected.values.count == 1)
        let difference = abs(loss.item - expected.values[0])
        #expect(difference <= Self.tolerance, "loss \(loss.item) vs PyTorch \(expected.values[0]) differs by \(difference)")
    }

    @Test("Every parameter gradient matches PyTorch", arguments: CausalAttentionKind.allCases)
    func gradients(kind: CausalAttentionKind) throws {
        let (fixture, model, _, _) = try run(kind)
        #expect(!fixture.parameterNames.isEmpty)

        for name in fixture.parameterNames {
            guard let expected = fixture.array("grad." + name) else { continue }
            let tensor = model.parameter(name)
            guard let gradient = tensor.grad else {
                Issue.record("\(name) received no gradient")
                continue
            }
            #expect(gradient.count == expected.values.count, "\(name): \(gradient.count) gradient values vs PyTorch \(expected.values.count)")
            let difference = largestDifference(gradient, expected.values)
            #expect(
                difference.value <= Self.tolerance,
                "grad \(name) differs by \(difference.value) at flat index \(difference.index): \(gradient[difference.index]) vs PyTorch \(expected.values[difference.index])")
        }
    }

    @Test("Tied token embedding sums both gradient paths")
    func tiedEmbedding() throws {
        let (fixture, model, _, _) = try run(.fused)
        guard let expected = fixture.array("grad.wte.weight") else { return }
        let gradient = try #require(model.parameter("wte.weight").grad)

        let difference = largestDifference(gradient, expected.values)
        #expect(difference.value <= Self.tolerance, "grad wte.weight differs by \(difference.value) at flat index \(difference.index)")

        // The head path alone reaches every row; the input path adds only to rows of ids that were looked up.
        // A row never used as an input must therefore carry the head gradient only, and a used row must not.
        let width = fixture.config.embedDim
        let usedIDs = Set(fixture.inputs).sorted()
        let unusedIDs = (0..<fixture.config.vocabSize).filter { !usedIDs.contains($0) }
        #expect(!unusedIDs.isEmpty, "the fixture must leave some id unused, so the two paths can be told apart")

        let headOnly = try headPathGradient(fixture)
        try #require(headOnly.count == gradient.count)
        for id in unusedIDs {
            let row = id * width..<(id + 1) * width
            let rowDifference = largestDifference(Array(gradient[row]), Array(headOnly[row]))
            #expect(rowDifference.value <= Self.tolerance, "row \(id) of grad wte.weight is not the head gradient alone")
        }
        for id in usedIDs {
            let row = id * width..<(id + 1) * width
            let rowDifference = largestDifference(Array(gradient[row]), Array(headOnly[row]))
            #expect(rowDifference.value > Self.tolerance, "row \(id) of grad wte.weight lacks the input-embedding gradient")
        }
    }

    /// Returns the gradient that reaches `wte.weight` through the head alone.
    private func headPathGradient(_ fixture: ParityFixture) throws -> [Float] {
        let model = ParityModel(fixture: fixture, attentionKind: .fused, detachesInputEmbedding: true)
        let loss = Tensor.crossEntropy(logits: model.logits(inputs: fixture.inputs), targets: fixture.targets)
        loss.backward()
        return try #require(model.parameter("wte.weight").grad)
    }
}
