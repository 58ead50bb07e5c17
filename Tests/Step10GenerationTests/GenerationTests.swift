import Foundation
import GenerationStep
import MLPStep
import StepKit
import Tensor
import Testing
import TokenizerStep
import TrainingStep
import TransformerStep

/// A model with known logits: after token i the logit of token (i + 1) mod V is 3 and every
/// other logit is 0. It records every context it is given.
final class SuccessorModel: LanguageModel {
    let blockSize: Int
    let vocabSize: Int
    /// When set, every logit of this token id is NaN.
    var nanID: Int?
    private(set) var contexts: [[Int]] = []

    init(blockSize: Int, vocabSize: Int) {
        self.blockSize = blockSize
        self.vocabSize = vocabSize
    }

    func logits(_ ids: [Int], shape: [Int]) -> Tensor {
        precondition(shape[0] == 1 && shape[1] <= blockSize, "SuccessorModel got shape \(shape), block size \(blockSize)")
        contexts.append(ids)
        var values = [Float](repeating: 0, count: ids.count * vocabSize)
        for (t, id) in ids.enumerated() {
            values[t * vocabSize + (id + 1) % vocabSize] = 3
            if let nanID { values[t * vocabSize + nanID] = .nan }
        }
        return Tensor(shape: [1, ids.count, vocabSize], data: values)
    }
}

/// Returns an untrained GPT with 12 tokens and block size 8. Its logits are small and close
/// together, so sampling spreads over many tokens.
func tinyGPT(seed: UInt64 = 3) throws -> GPT {
    var generator = SeededGenerator(seed: seed)
    return try GPT(config: GPTConfig(vocabSize: 12, blockSize: 8, embedDim: 16, numHeads: 2, numLayers: 1), generator: &generator)
}

func run(
    _ model: some LanguageModel, prompt: [Int] = [1], tokens: Int, vocabSize: Int = 12,
    _ settings: SamplingSettings, seed: UInt64 = 1
) throws -> [Int] {
    var generator = SeededGenerator(seed: seed)
    return try generate(
        model: model, prompt: prompt, maxNewTokens: tokens, vocabSize: vocabSize, settings: settings, generator: &generator)
}

@Suite("Next-token probabilities")
struct ProbabilityTests {
    @Test("softmax of [2, 1, 0] matches hand-worked values")
    func handWorkedSoftmax() throws {
        // T = 1: e² / (e² + e + 1) = 7.389056 / 11.107338 = 0.665241, then 2.718282 / 11.107338 = 0.244728
        // and 1 / 11.107338 = 0.090031. T = 2 divides the logits first: [1, 0.5, 0] gives
        // 2.718282, 1.648721, 1 over 5.367003. T = 0.5 gives [4, 2, 0]: 54.59815, 7.389056, 1 over 62.98721.
        let logits: [Float] = [2, 1, 0]
        let expected: [(Float, [Float])] = [
            (1, [0.665241, 0.244728, 0.090031]),
            (2, [0.506480, 0.307196, 0.186324]),
            (0.5, [0.866813, 0.117310, 0.015876]),
        ]
        for (temperature, values) in expected {
            let probabilities = try nextTokenProbabilities(logits: logits, settings: SamplingSettings(temperature: temperature))
            for (p, q) in zip(probabilities, values) {
                #expect(abs(p - q) <= 1e-5, "T \(temperature): \(probabilities) vs \(values)")
            }
        }
    }

    @Test("higher temperature has higher entropy")
    func temperatureRaisesEntropy() throws {
        let logits: [Float] = [2, 1, 0]
        func entropyAt(_ temperature: Float) throws -> Double {
            entropy(try nextTokenProbabilities(logits: logits, settings: SamplingSettings(temperature: temperature)))
        }
        // −Σ p ln p of the hand-worked probabilities above: 0.832 nats at T = 1.
        #expect(abs(try entropyAt(1) - 0.832_396) <= 1e-4)
        #expect(try entropyAt(2) > entropyAt(1))
        #expect(try entropyAt(1) > entropyAt(0.5))
        #expect(try entropyAt(1000) <= log(3.0))
        #expect(try entropyAt(1000) > log(3.0) - 1e-3, "a very high temperature approaches the uniform ln 3")
    }

    @Test("near-zero temperature and top-k 1 equal argmax")
    func greedyLimits() throws {
        let logits: [Float] = [0.3, 1.7, 1.2, -0.4]
        let oneHot: [Float] = [0, 1, 0, 0]
        for settings in [SamplingSettings(temperature: 1e-4), SamplingSettings(temperature: 0), SamplingSettings(topK: 1),
                         SamplingSettings(strategy: .argmax, temperature: 5)] {
            #expect(try nextTokenProbabilities(logits: logits, settings: settings) == oneHot, "\(settings)")
        }
        #expect(argmax(logits) == 1)
    }

    @Test("top-k leaves zero probability outside the top k")
    func topKZeroesTheRest() throws {
        let logits: [Float] = [0.5, 2, -1, 1.5, 0.1]
        let probabilities = try nextTokenProbabilities(logits: logits, settings: SamplingSettings(topK: 2))
        #expect(probabilities[0] == 0)
        #expect(probabilities[2] == 0)
        #expect(probabilities[4] == 0)
        // The two kept tokens share the mass in the ratio e^(2 − 1.5): 0.622459 and 0.377541.
        #expect(abs(probabilities[1] - 0.622459) <= 1e-5)
        #expect(abs(probabilities[3] - 0.377541) <= 1e-5)
    }

    @Test("sampling follows the probabilities")
    func samplingFrequencies() throws {
        let probabilities = try nextTokenProbabilities(logits: [2, 1, 0], settings: SamplingSettings())
        var generator = SeededGenerator(seed: 11)
        var counts = [0, 0, 0]
        let draws = 20_000
        for _ in 0..<draws { counts[generator.nextIndex(weights: probabilities)] += 1 }
        // The standard error of a frequency near 0.5 over 20,000 draws is 0.0035; 0.015 is over 4 of them.
        for (count, p) in zip(counts, probabilities) {
            #expect(abs(Float(count) / Float(draws) - p) <= 0.015, "\(counts) vs \(probabilities)")
        }
    }

    @Test("non-finite logits throw")
    func nonFiniteLogits() throws {
        #expect(throws: GenerationError.nonFiniteLogits(id: 1, value: .infinity)) {
            try nextTokenProbabilities(logits: [0, .infinity, 1], settings: SamplingSettings())
        }
        #expect(throws: GenerationError.self) {
            try nextTokenProbabilities(logits: [0, 1, .nan], settings: SamplingSettings(strategy: .argmax))
        }
        let model = SuccessorModel(blockSize: 4, vocabSize: 6)
        model.nanID = 2
        #expect(throws: GenerationError.self) {
            try run(model, tokens: 3, vocabSize: 6, SamplingSettings())
        }
    }

    @Test("invalid settings name the flag")
    func invalidSettings() throws {
        let cases: [(SamplingSettings, String)] = [
            (SamplingSettings(temperature: -0.5), "--temperature"),
            (SamplingSettings(temperature: .infinity), "--temperature"),
            (SamplingSettings(topK: 0), "--top-k"),
            (SamplingSettings(topK: 13), "--top-k"),
        ]
        for (settings, flag) in cases {
            do {
                try settings.validate(vocabSize: 12)
                Issue.record("\(settings) was accepted")
            } catch {
                #expect("\(error)".hasPrefix(flag), "\(error)")
            }
        }
        try SamplingSettings(topK: 12).validate(vocabSize: 12)
        try SamplingSettings(temperature: 0).validate(vocabSize: 12)
        #expect(throws: GenerationError.self) { try run(SuccessorModel(blockSize: 4, vocabSize: 12), tokens: 2, SamplingSettings(topK: 40)) }
    }
}

@Suite("Generation")
struct GenerationTests {
    @Test("argmax follows the most likely token and ignores the seed")
    func argmaxIsDeterministic() throws {
        let model = SuccessorModel(blockSize: 4, vocabSize: 6)
        let settings = SamplingSettings(strategy: .argmax)
        let first = try run(model, prompt: [3], tokens: 8, vocabSize: 6, settings, seed: 1)
        let second = try run(model, prompt: [3], tokens: 8, vocabSize: 6, settings, seed: 99)
        #expect(first == [4, 5, 0, 1, 2, 3, 4, 5])
        #expect(second == first)

        let gpt = try tinyGPT()
        #expect(try run(gpt, tokens: 20, SamplingSettings(strategy: .argmax), seed: 1)
            == run(gpt, tokens: 20, SamplingSettings(strategy: .argmax), seed: 2))
    }

    @Test("sampling repeats for a seed and differs across seeds")
    func samplingIsSeeded() throws {
        let gpt = try tinyGPT()
        let a = try run(gpt, tokens: 40, SamplingSettings(), seed: 1)
        let b = try run(gpt, tokens: 40, SamplingSettings(), seed: 1)
        let c = try run(gpt, tokens: 40, SamplingSettings(), seed: 2)
        #expect(a == b)
        #expect(a != c)
        #expect(Set(a).count > 4, "an untrained model's samples use many tokens: \(a)")
    }

    @Test("near-zero temperature and top-k 1 generate the argmax text")
    func greedyGeneration() throws {
        let gpt = try tinyGPT()
        let greedy = try run(gpt, tokens: 30, SamplingSettings(strategy: .argmax))
        #expect(try run(gpt, tokens: 30, SamplingSettings(topK: 1), seed: 5) == greedy)
        #expect(try run(gpt, tokens: 30, SamplingSettings(temperature: 0), seed: 6) == greedy)
        #expect(try run(gpt, tokens: 30, SamplingSettings(temperature: 1e-4), seed: 7) == greedy)
    }

    @Test("generation runs far past the block size")
    func pastTheBlockSize() throws {
        // The model reads at most the last blockSize ids at every step, cropped from the left.
        let model = SuccessorModel(blockSize: 4, vocabSize: 6)
        let prompt = [0, 1, 2, 3, 4, 5, 0]
        let ids = try run(model, prompt: prompt, tokens: 20, vocabSize: 6, SamplingSettings(temperature: 0.7), seed: 4)
        #expect(ids.count == 20)
        let all = prompt + ids
        for (step, context) in model.contexts.enumerated() {
            let end = prompt.count + step
            #expect(context == Array(all[max(0, end - 4)..<end]), "step \(step)")
        }

        let gpt = try tinyGPT()
        let long = try run(gpt, tokens: 5 * gpt.blockSize, SamplingSettings(), seed: 8)
        #expect(long.count == 40)
        #expect(long.allSatisfy { (0..<12).contains($0) })
    }
}

@Suite("Prompts and checkpoints")
struct PromptTests {
    @Test("prompt outside the vocabulary is rejected, naming the characters")
    func unknownPromptCharacters() throws {
        let tokenizer = try CharTokenizer(training: "hello world\n")
        #expect(try encodePrompt("hold", tokenizer: tokenizer) == tokenizer.encode("hold"))
        #expect(try encodePrompt("", tokenizer: tokenizer) == tokenizer.encode("\n"))
        do {
            _ = try encodePrompt("Hello, world", tokenizer: tokenizer)
            Issue.record("a prompt with H and , was accepted")
        } catch let error as GenerationError {
            #expect(error == .unknownCharacters(["H", ","], vocabSize: tokenizer.vocabSize))
            #expect("\(error)".contains("--show-vocabulary"))
        }
        let noNewline = try CharTokenizer(training: "abc")
        #expect(throws: GenerationError.emptyPrompt) { try encodePrompt("", tokenizer: noNewline) }
    }

    @Test("loaded checkpoint gives the trainer's logits")
    func checkpointRoundTrip() throws {
        var config = try TrainingConfig.preset(named: "default")
        config.model = GPTConfig(vocabSize: 0, blockSize: 8, embedDim: 16, numHeads: 2, numLayers: 1)
        config.batchSize = 4
        config.maxSteps = 2
        let trainer = try Trainer(config: config, text: try Corpus.embedded().text)
        try trainer.trainStep()
        try trainer.trainStep()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("Step10GenerationTests-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try trainer.saveCheckpoint(in: folder)

        let loaded = try TrainedModel.load(from: folder)
        #expect(loaded.step == 2)
        #expect(loaded.tokenizer == trainer.tokenizer)
        let context = trainer.tokenizer.encode("the lamp")
        trainer.model.setTraining(false)
        #expect(loaded.nextTokenLogits(after: context) == trainer.model.lastPositionLogits(context))
        #expect(try TrainedModel.load(from: folder.appendingPathComponent("checkpoint")).step == 2)
    }
}
