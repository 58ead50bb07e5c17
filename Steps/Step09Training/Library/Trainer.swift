import DatasetStep
import Foundation
import MLPStep
import StepKit
import Tensor
import TokenizerStep
import TransformerStep

/// The measurements of one optimizer step.
public struct StepRecord: Codable, Equatable {
    /// The step number, counted from 1.
    public var step: Int
    /// The training loss of the step's batch, before the update.
    public var loss: Float
    /// The global gradient norm before clipping.
    public var gradNorm: Float
    /// The learning rate the update used.
    public var learningRate: Float
}

/// One evaluation of the mean loss on both splits.
public struct Evaluation: Codable, Equatable {
    /// The number of steps completed when it ran.
    public var step: Int
    /// Mean loss on random training batches.
    public var trainLoss: Float
    /// Mean loss on random validation batches.
    public var validationLoss: Float
}

/// Everything a run has measured so far; saved with each checkpoint so a resumed run continues it.
public struct TrainingHistory: Codable, Equatable {
    /// One record per step.
    public var steps: [StepRecord] = []
    /// One record per evaluation.
    public var evaluations: [Evaluation] = []
}

/// The training driver for step 08's GPT: AdamW with decoupled weight decay, warmup then cosine
/// decay, global-norm gradient clipping, periodic evaluation, a divergence guard and checkpoints
/// from which a run resumes exactly.
public final class Trainer {
    /// The run's settings; `config.model.vocabSize` matches the tokenizer.
    public let config: TrainingConfig
    /// The character tokenizer built from the training text.
    public let tokenizer: CharTokenizer
    /// The model being trained.
    public let model: GPT
    /// The optimizer, over the model's named parameters.
    public let optimizer: AdamW
    /// The tokenized text, split into training and validation ids.
    public let dataset: TokenDataset
    /// The learning rate of each step.
    public let schedule: LearningRateSchedule
    /// The steps completed so far.
    public private(set) var step = 0
    /// The measurements of the run so far.
    public private(set) var history = TrainingHistory()
    /// The loss is taken to have diverged when it exceeds this multiple of the first step's loss.
    public var divergenceFactor: Float = 3

    /// A fingerprint of the training text, saved with each checkpoint so a resume on another text
    /// is rejected even when the vocabulary is the same.
    public let textFingerprint: TextFingerprint
    /// The source of the training text, as in "--text-file data/tinyshakespeare.txt"; saved with
    /// each checkpoint so a resume on another text can name the right one.
    public var textSource: String?

    private var batchGenerator: SeededGenerator
    private var evalGenerator: SeededGenerator

    /// Builds the tokenizer from `text`, the model from `config`, and the optimizer.
    /// - Throws: `TrainingError.invalidSetting` for unusable settings, or a dataset error when a split
    ///   is shorter than one window.
    public init(config: TrainingConfig, text: String) throws {
        try config.validate()
        let tokenizer = try CharTokenizer(training: text)
        var config = config
        config.model.vocabSize = tokenizer.vocabSize
        self.config = config
        self.tokenizer = tokenizer
        textFingerprint = TextFingerprint(text)
        dataset = try TokenDataset(ids: tokenizer.encode(text), valFraction: config.valFraction)
        for (ids, name) in [(dataset.train, "training"), (dataset.validation, "validation")]
        where TokenDataset.windowCount(tokenCount: ids.count, blockSize: config.model.blockSize) == 0 {
            throw DatasetError.splitTooShort(split: name, tokenCount: ids.count, blockSize: config.model.blockSize)
        }

        var generator = SeededGenerator(seed: config.seed)
        model = try GPT(config: config.model, generator: &generator)
        batchGenerator = SeededGenerator(seed: generator.next())
        evalGenerator = SeededGenerator(seed: generator.next())
        optimizer = AdamW(
            parameters: model.namedParameters, learningRate: config.learningRate,
            beta1: config.beta1, beta2: config.beta2, weightDecay: config.weightDecay)
        schedule = LearningRateSchedule(config: config)
    }

    /// Whether every step of the run is done.
    public var isFinished: Bool { step >= config.maxSteps }

    /// Tokens one step trains on, B·T.
    public var tokensPerStep: Int { config.batchSize * config.model.blockSize }

    /// Runs one optimizer step on a random training batch.
    /// - Throws: `TrainingError.diverged` when the loss or the gradient norm is not finite, or the loss
    ///   exceeds `divergenceFactor` times the first step's loss. The weights are not updated then.
    @discardableResult
    public func trainStep() throws -> StepRecord {
        let learningRate = schedule.rate(at: step)
        let batch = try TokenDataset.randomBatch(
            from: dataset.train, batchSize: config.batchSize, blockSize: config.model.blockSize, generator: &batchGenerator)
        model.setTraining(true)
        model.zeroGrad()
        let loss = model.loss(on: batch)
        let lossValue = loss.item
        let stepNumber = step + 1
        let clippingAdvice = config.maxGradNorm == nil ? ", or gradient clipping with --clip 1.0" : ""
        let advice = "Try a lower --lr, such as \(Format.significant(config.learningRate / 10)),"
            + " a longer --warmup-steps than \(config.warmupSteps)\(clippingAdvice)."

        guard lossValue.isFinite else {
            throw TrainingError.diverged(step: stepNumber, what: "loss", value: lossValue, learningRate: learningRate, advice: advice)
        }
        let firstLoss = history.steps.first?.loss ?? lossValue
        if lossValue > divergenceFactor * firstLoss {
            throw TrainingError.diverged(
                step: stepNumber,
                what: "loss (more than \(Format.significant(divergenceFactor))× the first step's \(Format.significant(firstLoss)))",
                value: lossValue, learningRate: learningRate, advice: advice)
        }

        loss.backward()
        let parameters = model.parameters
        let gradNorm: Float
        do {
            if let maxGradNorm = config.maxGradNorm {
                gradNorm = try clipGradientNorm(parameters, maxNorm: maxGradNorm)
            } else {
                gradNorm = gradientNorm(parameters)
                guard gradNorm.isFinite else { throw NonFiniteGradientError(norm: gradNorm) }
            }
        } catch let error as NonFiniteGradientError {
            throw TrainingError.diverged(step: stepNumber, what: "gradient norm", value: error.norm, learningRate: learningRate, advice: advice)
        }

        optimizer.learningRate = learningRate
        optimizer.step()
        step = stepNumber
        let record = StepRecord(step: stepNumber, loss: lossValue, gradNorm: gradNorm, learningRate: learningRate)
        history.steps.append(record)
        return record
    }

    /// Measures the mean loss on `config.evalBatches` random batches of each split, with dropout off
    /// and no graph recorded, and adds it to the history.
    @discardableResult
    public func evaluate() throws -> Evaluation {
        model.setTraining(false)
        defer { model.setTraining(true) }
        let train = try model.estimateLoss(
            on: dataset.train, batchCount: config.evalBatches, batchSize: config.batchSize,
            generator: &evalGenerator, splitName: "training")
        let validation = try model.estimateLoss(
            on: dataset.validation, batchCount: config.evalBatches, batchSize: config.batchSize,
            generator: &evalGenerator, splitName: "validation")
        let evaluation = Evaluation(step: step, trainLoss: train, validationLoss: validation)
        history.evaluations.append(evaluation)
        return evaluation
    }

    // MARK: Checkpoints

    /// The generators' states, in a fixed order: batches, evaluation, the model's dropout, each block's dropout.
    var generatorStates: [[UInt64]] {
        [batchGenerator.state, evalGenerator.state, model.dropoutGenerator.state] + model.blocks.map(\.dropoutGenerator.state)
    }

    func restoreGenerators(_ states: [[UInt64]]) throws {
        let restored = states.compactMap(SeededGenerator.init(state:))
        guard restored.count == states.count, restored.count == 3 + model.blocks.count else {
            throw CheckpointError("the run state contains \(states.count) generator states, but this model needs \(3 + model.blocks.count)")
        }
        batchGenerator = restored[0]
        evalGenerator = restored[1]
        model.dropoutGenerator = restored[2]
        for (block, generator) in zip(model.blocks, restored[3...]) { block.dropoutGenerator = generator }
    }

    /// The contents of `state.json`.
    struct RunState: Codable {
        var step: Int
        var generators: [[UInt64]]
        var history: TrainingHistory
        /// Absent in checkpoints written before the fingerprint existed; resume then skips the check.
        var text: TextFingerprint?
        /// `Trainer.textSource` at the save; absent when it was not set.
        var textSource: String?
    }

    /// Writes the checkpoint folder `folder/checkpoint`: model.safetensors, optimizer.safetensors,
    /// config.json, tokenizer.json and state.json. The files go to a temporary folder first, which
    /// then replaces the old checkpoint by rename, so an interrupted save leaves the previous
    /// checkpoint whole.
    /// - Throws: `CheckpointError` when a weight is not finite (nothing is written then).
    public func saveCheckpoint(in folder: URL) throws {
        for (name, tensor) in model.namedParameters where !tensor.data.allSatisfy(\.isFinite) {
            throw CheckpointError("parameter \(name) contains a non-finite value, so the checkpoint was not written")
        }
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: folder, withIntermediateDirectories: true)
        let final = folder.appendingPathComponent("checkpoint")
        let staging = folder.appendingPathComponent(".checkpoint-staging")
        let previous = folder.appendingPathComponent(".checkpoint-previous")
        try? fileManager.removeItem(at: staging)
        try fileManager.createDirectory(at: staging, withIntermediateDirectories: true)

        let metadata = ["step": String(step)]
        try model.saveParameters(to: staging.appendingPathComponent("model.safetensors"), metadata: metadata)
        try SafeTensors.write(optimizer.state(), metadata: metadata, to: staging.appendingPathComponent("optimizer.safetensors"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try encoder.encode(config).write(to: staging.appendingPathComponent("config.json"), options: .atomic)
        try tokenizer.jsonData().write(to: staging.appendingPathComponent("tokenizer.json"), options: .atomic)
        let state = RunState(step: step, generators: generatorStates, history: history, text: textFingerprint, textSource: textSource)
        try encoder.encode(state).write(to: staging.appendingPathComponent("state.json"), options: .atomic)

        try? fileManager.removeItem(at: previous)
        if fileManager.fileExists(atPath: final.path) {
            try fileManager.moveItem(at: final, to: previous)
        }
        try fileManager.moveItem(at: staging, to: final)
        try? fileManager.removeItem(at: previous)
    }

    /// Returns the checkpoint folder inside `folder` (a run folder or the checkpoint itself), checking
    /// that every file is there.
    public static func checkpointFolder(_ folder: URL) throws -> URL {
        let fileManager = FileManager.default
        var candidate = folder.appendingPathComponent("checkpoint")
        if !fileManager.fileExists(atPath: candidate.path) {
            // An interrupted save leaves the previous checkpoint under this name.
            let previous = folder.appendingPathComponent(".checkpoint-previous")
            candidate = fileManager.fileExists(atPath: previous.path) ? previous : folder
        }
        for file in ["model.safetensors", "config.json", "tokenizer.json"] {
            guard fileManager.fileExists(atPath: candidate.appendingPathComponent(file).path) else {
                throw TrainingError.checkpointMissing(folder: folder.relativePath, file: file)
            }
        }
        return candidate
    }

    /// Throws `TrainingError.checkpointExists` when `folder` already contains a checkpoint (or the
    /// previous one an interrupted save left), unless `overwrite` is true. A new run calls this
    /// before training, so it never replaces a saved run by accident.
    public static func checkNewRunFolder(_ folder: URL, overwrite: Bool) throws {
        guard !overwrite else { return }
        let fileManager = FileManager.default
        for name in ["checkpoint", ".checkpoint-previous"]
        where fileManager.fileExists(atPath: folder.appendingPathComponent(name).path) {
            throw TrainingError.checkpointExists(folder: folder.relativePath)
        }
    }

    /// Loads the config and tokenizer saved in a checkpoint folder.
    public static func loadConfig(from folder: URL) throws -> (config: TrainingConfig, tokenizer: CharTokenizer) {
        let checkpoint = try checkpointFolder(folder)
        let config = try JSONDecoder().decode(TrainingConfig.self, from: Data(contentsOf: checkpoint.appendingPathComponent("config.json")))
        let tokenizer = try CharTokenizer(jsonData: Data(contentsOf: checkpoint.appendingPathComponent("tokenizer.json")))
        return (config, tokenizer)
    }

    /// Continues a saved run on the same text. The resumed run draws the same batches and reaches
    /// the same losses as a run that was never interrupted.
    ///
    /// `config` may change `evalInterval`, `evalBatches` and `checkpointInterval`: none of them
    /// changes the steps already taken or to come. `maxSteps` may not change, because the cosine
    /// decay is laid out over it: a larger value would raise the learning rate of the remaining
    /// steps, and of a finished run back towards the peak. `nil` continues with the saved settings.
    /// `derivedMinLearningRate` marks that `config.minLearningRate` was computed from the learning
    /// rate rather than given, so a mismatch message names it that way.
    /// - Throws: `TrainingError.checkpointMismatch` naming what differs when any other setting, the
    ///   text's vocabulary or the text itself does not match the checkpoint.
    public static func resume(
        from folder: URL, config requested: TrainingConfig?, text: String, derivedMinLearningRate: Bool = false
    ) throws -> Trainer {
        let checkpoint = try checkpointFolder(folder)
        for file in ["optimizer.safetensors", "state.json"]
        where !FileManager.default.fileExists(atPath: checkpoint.appendingPathComponent(file).path) {
            throw TrainingError.checkpointMissing(folder: folder.relativePath, file: file)
        }
        let (saved, savedTokenizer) = try loadConfig(from: folder)
        let state = try JSONDecoder().decode(RunState.self, from: Data(contentsOf: checkpoint.appendingPathComponent("state.json")))
        let savedSource = state.textSource.map { "the saved run was trained on \($0)" }
            ?? "pass the same --text or --text-file as the saved run"
        let textTokenizer = try CharTokenizer(training: text)
        guard textTokenizer == savedTokenizer else {
            let characters = textTokenizer.vocabSize == savedTokenizer.vocabSize ? " with different characters" : ""
            throw TrainingError.checkpointMismatch(
                folder: folder.relativePath,
                detail: "the text has a vocabulary of \(textTokenizer.vocabSize) tokens, the checkpoint's has \(savedTokenizer.vocabSize)\(characters)."
                    + " The vocabulary is made of the training text's characters, so this is another text; \(savedSource)")
        }
        var config = saved
        if let requested {
            var comparable = requested
            comparable.model.vocabSize = saved.model.vocabSize
            comparable.evalInterval = saved.evalInterval
            comparable.evalBatches = saved.evalBatches
            comparable.checkpointInterval = saved.checkpointInterval
            if comparable != saved {
                throw TrainingError.checkpointMismatch(
                    folder: folder.relativePath,
                    detail: describeDifferences(saved, comparable, derivedMinLearningRate: derivedMinLearningRate))
            }
            config.evalInterval = requested.evalInterval
            config.evalBatches = requested.evalBatches
            config.checkpointInterval = requested.checkpointInterval
        }

        let fingerprint = TextFingerprint(text)
        if let savedText = state.text, savedText != fingerprint {
            throw TrainingError.checkpointMismatch(
                folder: folder.relativePath,
                detail: "the text differs from the one the checkpoint was trained on (\(Format.grouped(fingerprint.scalarCount))"
                    + " characters with fingerprint \(fingerprint.hash) now, \(Format.grouped(savedText.scalarCount))"
                    + " with \(savedText.hash) then); \(savedSource)")
        }
        let trainer = try Trainer(config: config, text: text)
        try trainer.model.loadParameters(from: checkpoint.appendingPathComponent("model.safetensors"))
        try trainer.optimizer.loadState(SafeTensors.read(from: checkpoint.appendingPathComponent("optimizer.safetensors")).arrays)
        try trainer.restoreGenerators(state.generators)
        trainer.step = state.step
        trainer.history = state.history
        trainer.textSource = state.textSource
        return trainer
    }
}

/// Returns one clause per setting that differs, named by its flag, as in
/// "--embed-dim is 64 in the checkpoint but 128 now", joined by "; ". A different `--max-steps`
/// gets the reason it cannot change; with `derivedMinLearningRate` the minimum rate is named as
/// following `--lr`.
func describeDifferences(_ saved: TrainingConfig, _ requested: TrainingConfig, derivedMinLearningRate: Bool = false) -> String {
    // Swift prints the shortest text that reads back as the same Float, so equal texts mean equal values.
    func text(_ value: Float?) -> String { value.map { "\($0)" } ?? "off" }
    let settings: [(name: String, saved: String, requested: String)] = [
        ("--block-size", "\(saved.model.blockSize)", "\(requested.model.blockSize)"),
        ("--embed-dim", "\(saved.model.embedDim)", "\(requested.model.embedDim)"),
        ("--heads", "\(saved.model.numHeads)", "\(requested.model.numHeads)"),
        ("--layers", "\(saved.model.numLayers)", "\(requested.model.numLayers)"),
        ("--dropout", text(saved.model.dropout), text(requested.model.dropout)),
        ("the bias setting", "\(saved.model.bias)", "\(requested.model.bias)"),
        ("the vocabulary size", "\(saved.model.vocabSize)", "\(requested.model.vocabSize)"),
        ("--batch-size", "\(saved.batchSize)", "\(requested.batchSize)"),
        ("--max-steps", "\(saved.maxSteps)", "\(requested.maxSteps)"),
        ("--lr", text(saved.learningRate), text(requested.learningRate)),
        (derivedMinLearningRate ? "--min-lr (derived from --lr)" : "--min-lr", text(saved.minLearningRate), text(requested.minLearningRate)),
        ("--warmup-steps", "\(saved.warmupSteps)", "\(requested.warmupSteps)"),
        ("the weight decay", text(saved.weightDecay), text(requested.weightDecay)),
        ("beta1", text(saved.beta1), text(requested.beta1)),
        ("beta2", text(saved.beta2), text(requested.beta2)),
        ("--clip", text(saved.maxGradNorm), text(requested.maxGradNorm)),
        ("--eval-interval", "\(saved.evalInterval)", "\(requested.evalInterval)"),
        ("--eval-batches", "\(saved.evalBatches)", "\(requested.evalBatches)"),
        ("--checkpoint-interval", "\(saved.checkpointInterval)", "\(requested.checkpointInterval)"),
        ("--val-fraction", "\(saved.valFraction)", "\(requested.valFraction)"),
        ("--seed", "\(saved.seed)", "\(requested.seed)"),
    ]
    let differences = settings.filter { $0.saved != $0.requested }.map { setting in
        var clause = "\(setting.name) is \(setting.saved) in the checkpoint but \(setting.requested) now"
        if setting.name == "--max-steps" {
            clause += " (the cosine decay is laid out over --max-steps, so a resumed run keeps it: a new value would"
                + " move the learning rate of every remaining step, and raise a finished run's back towards the peak."
                + " To train longer, start a new run with the larger --max-steps)"
        }
        return clause
    }
    return differences.isEmpty ? "the settings differ" : differences.joined(separator: "; ")
}

/// The length and a 64-bit FNV-1a hash of a text's UTF-8 bytes: enough to tell two training texts apart.
public struct TextFingerprint: Codable, Equatable {
    /// The number of Unicode scalars, the tokens of the character tokenizer.
    public let scalarCount: Int
    /// The hash as 16 hexadecimal digits.
    public let hash: String

    /// Computes the fingerprint of `text`.
    public init(_ text: String) {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        scalarCount = text.unicodeScalars.count
        let digits = String(value, radix: 16)
        hash = String(repeating: "0", count: 16 - digits.count) + digits
    }
}
