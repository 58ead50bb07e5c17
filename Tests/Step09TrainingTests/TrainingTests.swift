import Foundation
import MultiHeadAttentionStep
import StepKit
import Tensor
import Testing
import TokenizerStep
import TrainingStep
import TransformerStep

/// Returns settings for a model small enough that one step takes milliseconds in a debug build.
func tinyConfig(steps: Int = 12, learningRate: Float = 1e-2, maxGradNorm: Float? = 1, dropout: Float = 0) throws -> TrainingConfig {
    var config = try TrainingConfig.preset(named: "default")
    config.model = GPTConfig(vocabSize: 0, blockSize: 8, embedDim: 16, numHeads: 2, numLayers: 1, dropout: dropout)
    config.batchSize = 4
    config.maxSteps = steps
    config.learningRate = learningRate
    config.minLearningRate = learningRate / 10
    config.warmupSteps = 2
    config.maxGradNorm = maxGradNorm
    config.evalInterval = 4
    config.evalBatches = 2
    config.checkpointInterval = 1000
    config.seed = 7
    return config
}

/// Returns the embedded corpus, the text every step program trains on by default.
func embeddedText() throws -> String {
    try Corpus.embedded().text
}

/// Creates an empty folder under the temporary directory; the caller removes it.
func temporaryFolder() throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("Step09TrainingTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

/// Returns the bytes of every file of a checkpoint folder, by file name.
func checkpointBytes(_ folder: URL) throws -> [String: Data] {
    let checkpoint = folder.appendingPathComponent("checkpoint")
    var files: [String: Data] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: checkpoint.path) {
        files[name] = try Data(contentsOf: checkpoint.appendingPathComponent(name))
    }
    return files
}

@Suite("Learning-rate schedule")
struct ScheduleTests {
    @Test("schedule matches hand-worked values")
    func handWorkedValues() throws {
        var config = try tinyConfig(steps: 7, learningRate: 1e-3)
        config.minLearningRate = 1e-4
        config.warmupSteps = 2
        let schedule = LearningRateSchedule(config: config)
        // Warmup: 1e-3 · (s + 1) / 3. Decay over steps 2 … 6: p = (s − 2) / 4, so s = 3, 4, 5 give
        // p = 1/4, 1/2, 3/4 and ½(1 + cos πp) = 0.853553, 0.5, 0.146447; rate = 1e-4 + that · 9e-4.
        let expected: [Float] = [3.333333e-4, 6.666667e-4, 1e-3, 8.681981e-4, 5.5e-4, 2.318019e-4, 1e-4]
        for (step, rate) in expected.enumerated() {
            #expect(abs(schedule.rate(at: step) - rate) <= 1e-9, "step \(step): \(schedule.rate(at: step)) vs \(rate)")
        }
    }

    @Test("schedule warms up, peaks, then decays to the minimum", arguments: ["default", "shakespeare-cpu"])
    func shape(preset: String) throws {
        let config = try TrainingConfig.preset(named: preset)
        let schedule = LearningRateSchedule(config: config)
        let rates = (0..<config.maxSteps).map { schedule.rate(at: $0) }
        let warmup = config.warmupSteps

        #expect(rates[0] > 0)
        #expect(rates[warmup] == config.learningRate)
        #expect(rates.max() == config.learningRate)
        #expect(rates[config.maxSteps - 1] == config.minLearningRate)
        for step in 1...warmup {
            #expect(rates[step] > rates[step - 1], "warmup rises at step \(step)")
        }
        for step in (warmup + 1)..<config.maxSteps {
            #expect(rates[step] <= rates[step - 1], "decay never rises, step \(step)")
        }
        #expect(schedule.rate(at: config.maxSteps + 5) == config.minLearningRate)
    }

    @Test("shakespeare-cpu is nanoGPT's CPU configuration")
    func shakespearePreset() throws {
        let config = try TrainingConfig.preset(named: "shakespeare-cpu")
        #expect(config.model.numLayers == 4)
        #expect(config.model.numHeads == 4)
        #expect(config.model.embedDim == 128)
        #expect(config.model.blockSize == 64)
        #expect(config.model.dropout == 0)
        #expect(config.batchSize == 12)
        #expect(config.maxSteps == 2000)
        #expect(config.learningRate == 1e-3)
        #expect(config.minLearningRate == 1e-4)
        #expect(config.warmupSteps == 100)
        #expect(config.weightDecay == 0.1)
        #expect(config.maxGradNorm == 1.0)
        #expect(config.beta1 == 0.9)
        #expect(config.beta2 == 0.99)
    }

    @Test("invalid settings name their flag")
    func invalidSettings() throws {
        let base = try tinyConfig()
        let cases: [(String, (inout TrainingConfig) -> Void)] = [
            ("--lr", { $0.learningRate = 0 }),
            ("--min-lr", { $0.minLearningRate = 1 }),
            ("--clip", { $0.maxGradNorm = -1 }),
            ("--dropout", { $0.model.dropout = 1 }),
            ("--max-steps", { $0.maxSteps = 0 }),
            ("--val-fraction", { $0.valFraction = 0 }),
        ]
        for (flag, change) in cases {
            var config = base
            change(&config)
            #expect(throws: TrainingError.self, "\(flag)") { try config.validate() }
            do {
                try config.validate()
            } catch {
                #expect("\(error)".hasPrefix(flag), "message \"\(error)\" starts with \(flag)")
            }
        }
        #expect(throws: TrainingError.self) { try TrainingConfig.preset(named: "huge") }
    }

    @Test("invalid head count lists valid counts")
    func invalidHeads() throws {
        var config = try tinyConfig()
        config.model.embedDim = 16
        config.model.numHeads = 5
        do {
            try config.validate()
            Issue.record("5 heads over embed dim 16 were accepted")
        } catch let error as AttentionConfigurationError {
            #expect("\(error)".contains("invalid --heads 5"), "\(error)")
            #expect("\(error)".contains("1, 2, 4, 8, 16"), "\(error)")
        }
    }
}

@Suite("Optimizer step")
struct OptimizerStepTests {
    @Test("weight decay shrinks only 2-D weights")
    func weightDecayOnlyOnMatrices() throws {
        // Two runs that differ only in weight decay take the same batch and gradients, so after one
        // step p(no decay) − p(decay) = lr · λ · p₀ for decayed tensors and exactly 0 for the rest.
        var config = try tinyConfig(steps: 4)
        config.model.bias = true
        config.warmupSteps = 0
        config.weightDecay = 0
        let plain = try Trainer(config: config, text: try embeddedText())
        config.weightDecay = 0.5
        let decayed = try Trainer(config: config, text: try embeddedText())
        let initial = decayed.model.namedParameters.map { ($0.name, $0.tensor.data) }

        try plain.trainStep()
        let record = try decayed.trainStep()
        #expect(record.learningRate == config.learningRate)

        var matrices = 0, vectors = 0
        for ((name, start), (p, d)) in zip(initial, zip(plain.model.namedParameters, decayed.model.namedParameters)) {
            if p.tensor.rank == 2 {
                matrices += 1
                for i in 0..<start.count {
                    let expected = record.learningRate * 0.5 * start[i]
                    let difference = p.tensor.data[i] - d.tensor.data[i]
                    #expect(abs(difference - expected) <= 1e-6, "\(name)[\(i)]: \(difference) vs \(expected)")
                }
            } else {
                vectors += 1
                #expect(p.tensor.data == d.tensor.data, "\(name) (rank \(p.tensor.rank)) must not decay")
            }
        }
        #expect(matrices >= 6, "token and position tables and the block's matrices")
        #expect(vectors >= 4, "LayerNorm gains and biases")
    }

    @Test("clipping caps the gradient norm")
    func clippingCapsNorm() throws {
        let trainer = try Trainer(config: try tinyConfig(maxGradNorm: 0.05), text: try embeddedText())
        let record = try trainer.trainStep()
        let after = gradientNorm(trainer.model.parameters)
        #expect(record.gradNorm > 0.05, "the raw norm \(record.gradNorm) is above the threshold")
        #expect(record.wasClipped(maxGradNorm: 0.05))
        #expect(abs(after - 0.05) <= 1e-4, "the clipped norm \(after) equals the threshold")
    }

    @Test("without clipping the gradients keep their norm")
    func noClippingKeepsNorm() throws {
        let trainer = try Trainer(config: try tinyConfig(maxGradNorm: nil), text: try embeddedText())
        let record = try trainer.trainStep()
        let after = gradientNorm(trainer.model.parameters)
        #expect(after == record.gradNorm)
        #expect(!record.wasClipped(maxGradNorm: nil))
    }
}

@Suite("Divergence guard")
struct DivergenceTests {
    @Test("absurd learning rate diverges and keeps the checkpoint")
    func absurdLearningRate() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var config = try tinyConfig(steps: 40, learningRate: 1e3, maxGradNorm: nil)
        config.warmupSteps = 0
        config.checkpointInterval = 1000
        let trainer = try Trainer(config: config, text: try embeddedText())
        try trainer.saveCheckpoint(in: folder)
        let before = try checkpointBytes(folder)

        var caught: TrainingError?
        do {
            try trainer.run(checkpointFolder: folder)
        } catch let error as TrainingError {
            caught = error
        }
        guard case let .diverged(step, _, value, learningRate, _)? = caught else {
            Issue.record("expected TrainingError.diverged, got \(String(describing: caught))")
            return
        }
        #expect(step < 40, "stopped before the end, at step \(step)")
        #expect(learningRate == trainer.schedule.rate(at: step - 1))
        #expect(!value.isFinite || value > 3 * trainer.history.steps[0].loss)
        #expect(trainer.step == step - 1, "the diverged step was not counted")
        #expect(try checkpointBytes(folder) == before, "the step-0 checkpoint is byte for byte unchanged")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent(".checkpoint-staging").path))
        #expect("\(caught!)".contains("--lr"), "the message suggests a lower --lr")
    }

    @Test("saving non-finite weights is refused")
    func nonFiniteWeightsNotSaved() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let trainer = try Trainer(config: try tinyConfig(), text: try embeddedText())
        try trainer.saveCheckpoint(in: folder)
        let before = try checkpointBytes(folder)

        trainer.model.finalNorm.gain.data[0] = .nan
        #expect(throws: CheckpointError.self) { try trainer.saveCheckpoint(in: folder) }
        #expect(try checkpointBytes(folder) == before)
    }

    @Test("comparison records a divergence and goes on")
    func comparisonContinues() throws {
        var wild = try tinyConfig(steps: 30, learningRate: 1e3, maxGradNorm: nil)
        wild.warmupSteps = 0
        let results = try compareRuns(
            [("wild", wild), ("calm", try tinyConfig(steps: 8))], text: try embeddedText())
        #expect(results.count == 2)
        #expect(results[0].divergedAtStep != nil)
        #expect(results[1].divergedAtStep == nil)
        #expect(results[1].history.steps.count == 8)
        #expect(runComparisonTable(results).render().contains("diverged at step \(results[0].divergedAtStep ?? -1)"))
    }
}

@Suite("Checkpoints and resume")
struct ResumeTests {
    @Test("resumed run matches an uninterrupted run bit for bit")
    func resumeIsExact() throws {
        // Dropout is on, so the dropout generators must be restored too.
        let config = try tinyConfig(steps: 12, dropout: 0.1)
        let text = try embeddedText()

        // The evaluation log without its timing, which the program prints.
        var straightLog: [String] = []
        var splitLog: [String] = []
        func logLine(_ evaluation: Evaluation, _ statistics: IntervalStatistics) -> String {
            "\(evaluation) \(statistics.stepCount) \(statistics.meanGradNorm) \(statistics.maxGradNorm) \(statistics.clippedSteps)"
        }

        let straight = try Trainer(config: config, text: text)
        #expect(try straight.run(onEvaluation: { straightLog.append(logLine($0, $1)) }) == .finished)

        // Stopping after step 5 splits the evaluation interval of steps 5 to 8.
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try Trainer(config: config, text: text)
        let end = try first.run(
            checkpointFolder: folder, stopRequested: { first.step == 5 }, onEvaluation: { splitLog.append(logLine($0, $1)) })
        #expect(end == .interrupted)
        #expect(first.step == 5)

        let resumed = try Trainer.resume(from: folder, config: nil, text: text)
        #expect(resumed.step == 5)
        #expect(try resumed.run(checkpointFolder: folder, onEvaluation: { splitLog.append(logLine($0, $1)) }) == .finished)
        #expect(splitLog == straightLog)
        #expect(straightLog.count == 4, "evaluations after steps 0, 4, 8 and 12")

        #expect(resumed.history.steps.count == 12)
        for (a, b) in zip(straight.history.steps, resumed.history.steps) {
            #expect(a.loss.bitPattern == b.loss.bitPattern, "loss at step \(a.step)")
            #expect(a.gradNorm.bitPattern == b.gradNorm.bitPattern, "gradient norm at step \(a.step)")
            #expect(a.learningRate.bitPattern == b.learningRate.bitPattern, "learning rate at step \(a.step)")
        }
        #expect(straight.history == resumed.history, "steps and evaluations")
        for (a, b) in zip(straight.model.namedParameters, resumed.model.namedParameters) {
            #expect(a.tensor.data == b.tensor.data, "\(a.name) after 12 steps")
        }
    }

    @Test("resume rejects other settings, naming them")
    func resumeRejectsSettings() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = try tinyConfig(steps: 4)
        let text = try embeddedText()
        let trainer = try Trainer(config: config, text: text)
        try trainer.trainStep()
        try trainer.saveCheckpoint(in: folder)

        var other = config
        other.model.embedDim = 32
        other.learningRate = 5e-3
        do {
            _ = try Trainer.resume(from: folder, config: other, text: text)
            Issue.record("a checkpoint with another embed dim was accepted")
        } catch let error as TrainingError {
            let message = "\(error)"
            #expect(message.contains("--embed-dim is 16 in the checkpoint but 32 now"), "\(message)")
            #expect(message.contains("--lr is 0.01 in the checkpoint but 0.005 now"), "\(message)")
        }

        // A minimum rate that followed --lr is named that way.
        var fasterDecay = config
        fasterDecay.learningRate = 2e-2
        fasterDecay.minLearningRate = 2e-3
        do {
            _ = try Trainer.resume(from: folder, config: fasterDecay, text: text, derivedMinLearningRate: true)
            Issue.record("a checkpoint with another learning rate was accepted")
        } catch let error as TrainingError {
            #expect("\(error)".contains("--min-lr (derived from --lr) is"), "\(error)")
        }

        // The length of the run sets the cosine decay, so it may not change.
        var longer = config
        longer.maxSteps = 8
        do {
            _ = try Trainer.resume(from: folder, config: longer, text: text)
            Issue.record("a checkpoint with another --max-steps was accepted")
        } catch let error as TrainingError {
            #expect("\(error)".contains("--max-steps is 4 in the checkpoint but 8 now"), "\(error)")
            #expect("\(error)".contains("start a new run"), "\(error)")
        }

        // The evaluation and checkpoint settings may change.
        var moreOften = config
        moreOften.evalInterval = 2
        moreOften.checkpointInterval = 3
        let resumed = try Trainer.resume(from: folder, config: moreOften, text: text)
        #expect(resumed.config.evalInterval == 2)
        #expect(resumed.config.maxSteps == 4)
        #expect(resumed.step == 1)
    }

    @Test("new run rejects an existing checkpoint")
    func newRunRejectsCheckpoint() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Trainer.checkNewRunFolder(folder, overwrite: false)
        let trainer = try Trainer(config: try tinyConfig(), text: try embeddedText())
        try trainer.saveCheckpoint(in: folder)
        do {
            try Trainer.checkNewRunFolder(folder, overwrite: false)
            Issue.record("a folder containing a checkpoint was accepted for a new run")
        } catch let error as TrainingError {
            #expect("\(error)".contains("--resume"), "\(error)")
            #expect("\(error)".contains("--overwrite"), "\(error)")
        }
        try Trainer.checkNewRunFolder(folder, overwrite: true)
    }

    @Test("resume rejects another vocabulary or text")
    func resumeRejectsText() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = try embeddedText()
        let trainer = try Trainer(config: try tinyConfig(), text: text)
        trainer.textSource = "--text-file data/example.txt"
        try trainer.saveCheckpoint(in: folder)

        let otherVocabulary = text + "§"
        do {
            _ = try Trainer.resume(from: folder, config: nil, text: otherVocabulary)
            Issue.record("a text with another vocabulary was accepted")
        } catch let error as TrainingError {
            #expect("\(error)".contains("vocabulary"), "\(error)")
            #expect("\(error)".contains("trained on --text-file data/example.txt"), "\(error)")
        }

        // Same characters, other order: the vocabulary matches but the batches would not.
        let reordered = String(text.reversed())
        #expect(try CharTokenizer(training: reordered) == trainer.tokenizer)
        do {
            _ = try Trainer.resume(from: folder, config: nil, text: reordered)
            Issue.record("another text with the same vocabulary was accepted")
        } catch let error as TrainingError {
            #expect("\(error)".contains("the text differs"), "\(error)")
        }
    }

    @Test("missing checkpoint names the missing file")
    func missingCheckpoint() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            _ = try Trainer.resume(from: folder, config: nil, text: "abc abc abc")
            Issue.record("an empty folder was accepted as a checkpoint")
        } catch let error as TrainingError {
            #expect("\(error)".contains("model.safetensors is missing"), "\(error)")
        }
    }
}

/// Returns −Σ f·ln f over the frequencies f of the ids: the loss of the best model that ignores
/// the context, so a loss below it shows that the model uses the tokens before the target.
func unigramEntropy(_ ids: [Int]) -> Float {
    var counts: [Int: Int] = [:]
    for id in ids { counts[id, default: 0] += 1 }
    var total = 0.0
    for count in counts.values {
        let frequency = Double(count) / Double(ids.count)
        total -= frequency * log(frequency)
    }
    return Float(total)
}

/// Returns the settings of the learning tests: one block of width 32, 16 tokens of context.
func learningConfig(steps: Int) throws -> TrainingConfig {
    var config = try tinyConfig(steps: steps, learningRate: 3e-3)
    config.model.blockSize = 16
    config.model.embedDim = 32
    config.batchSize = 8
    config.warmupSteps = 10
    config.evalInterval = steps
    config.evalBatches = 8
    return config
}

@Suite("Learning")
struct LearningTests {
    @Test("tiny model learns the embedded corpus")
    func learnsEmbeddedCorpus() throws {
        let trainer = try Trainer(config: try learningConfig(steps: 300), text: try embeddedText())
        try trainer.run()
        let uniform = Float(log(Double(trainer.tokenizer.vocabSize)))
        let unigram = unigramEntropy(trainer.dataset.train)
        let first = try #require(trainer.history.evaluations.first)
        let last = try #require(trainer.history.evaluations.last)
        #expect(abs(first.trainLoss - uniform) < 0.3, "an untrained model starts near ln(V) = \(uniform), got \(first.trainLoss)")
        #expect(last.trainLoss < uniform - 1.2, "train loss \(last.trainLoss) vs ln(V) = \(uniform)")
        #expect(last.trainLoss < unigram - 0.25, "train loss \(last.trainLoss) vs the unigram entropy \(unigram)")
        #expect(last.validationLoss < uniform - 1.0, "validation loss \(last.validationLoss) vs ln(V) = \(uniform)")
    }

    /// The path of data/tinyshakespeare.txt, or nil before `make data`.
    static let shakespearePath = try? Corpus.locateTinyShakespeare()

    // Needs data/tinyshakespeare.txt, which is not in the repository; `make data` downloads it.
    @Test(
        "tiny model learns a slice of tinyshakespeare",
        .enabled(if: shakespearePath != nil, "data/tinyshakespeare.txt is missing: run `make data` to download it, then run the tests again"))
    func learnsShakespeare() throws {
        let path = try #require(Self.shakespearePath)
        let text = String(try Corpus.file(atPath: path).text.prefix(100_000))
        let trainer = try Trainer(config: try learningConfig(steps: 300), text: text)
        try trainer.run()
        let uniform = Float(log(Double(trainer.tokenizer.vocabSize)))
        let unigram = unigramEntropy(trainer.dataset.train)
        let last = try #require(trainer.history.evaluations.last)
        #expect(last.trainLoss < uniform - 1.2, "train loss \(last.trainLoss) vs ln(V) = \(uniform)")
        #expect(last.trainLoss < unigram - 0.25, "train loss \(last.trainLoss) vs the unigram entropy \(unigram)")
        #expect(last.validationLoss < uniform - 1.0, "validation loss \(last.validationLoss) vs ln(V) = \(uniform)")
    }
}
