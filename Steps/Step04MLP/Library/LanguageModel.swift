import DatasetStep
import Foundation
import StepKit
import Tensor

/// A model that maps token ids `[B, T]` to next-token logits `[B, T, vocabSize]`.
public protocol LanguageModel: Module {
    /// The maximum context length the model accepts, T.
    var blockSize: Int { get }
    /// Returns next-token logits `[B, T, vocabSize]` for ids `[B, T]` laid out flat with `shape` `[B, T]`.
    func logits(_ ids: [Int], shape: [Int]) -> Tensor
    /// Switches training-only behaviour such as dropout on (`true`) or off (`false`).
    /// Models without such behaviour keep the default, which does nothing.
    func setTraining(_ training: Bool)
}

extension LanguageModel {
    /// Does nothing: a model without dropout behaves the same in training and evaluation.
    public func setTraining(_ training: Bool) {}

    /// Returns the mean cross-entropy of the model's predictions for a batch's targets.
    public func loss(on batch: Batch) -> Tensor {
        let logits = logits(batch.inputs, shape: batch.shape)
        return Tensor.crossEntropy(logits: logits, targets: batch.targets)
    }

    /// Returns the mean loss over `batchCount` random batches of `ids`, without recording a graph.
    /// - Throws: `DatasetError.splitTooShort` when `ids` has no window of `blockSize + 1` tokens.
    public func estimateLoss(
        on ids: [Int], batchCount: Int, batchSize: Int, generator: inout SeededGenerator, splitName: String
    ) throws -> Float {
        var total: Float = 0
        for _ in 0..<batchCount {
            let batch = try TokenDataset.randomBatch(
                from: ids, batchSize: batchSize, blockSize: blockSize, generator: &generator, splitName: splitName)
            total += Tensor.withoutGradients { loss(on: batch).item }
        }
        return total / Float(batchCount)
    }

    /// Returns the logits `[vocabSize]` at the last position of one sequence of ids, without
    /// recording a graph. The sequence must have 1 to `blockSize` ids.
    public func lastPositionLogits(_ context: [Int]) -> [Float] {
        precondition(
            !context.isEmpty && context.count <= blockSize,
            "lastPositionLogits: the context needs 1 to \(blockSize) ids, got \(context.count)")
        let logits = Tensor.withoutGradients { self.logits(context, shape: [1, context.count]) }
        let vocabSize = logits.shape[logits.rank - 1]
        return Array(logits.data[(logits.count - vocabSize)...])
    }
}

/// Settings of the short training runs of steps 04 to 08.
public struct ShortTraining {
    /// The number of optimizer steps.
    public var steps: Int
    /// Sequences per batch, B.
    public var batchSize: Int
    /// AdamW's learning rate.
    public var learningRate: Float
    /// Steps between two loss evaluations.
    public var evalInterval: Int
    /// Batches averaged for each evaluation.
    public var evalBatches: Int

    /// Creates settings; the defaults train the small models of steps 04 to 08 in seconds.
    public init(steps: Int = 600, batchSize: Int = 16, learningRate: Float = 3e-3, evalInterval: Int = 50, evalBatches: Int = 8) {
        self.steps = steps
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.evalInterval = evalInterval
        self.evalBatches = evalBatches
    }
}

/// The losses measured during a run: one entry per evaluation.
public struct LossCurve {
    /// The step after which each evaluation ran (0 is before training).
    public var steps: [Int] = []
    /// Mean training loss at each evaluation.
    public var train: [Float] = []
    /// Mean validation loss at each evaluation.
    public var validation: [Float] = []
    /// Wall-clock seconds the optimizer steps took, without evaluations.
    public var trainingSeconds: Double = 0

    /// Creates an empty curve.
    public init() {}

    /// The training loss of the last evaluation, or NaN before any evaluation.
    public var finalTrain: Float { train.last ?? .nan }

    /// The validation loss of the last evaluation, or NaN before any evaluation.
    public var finalValidation: Float { validation.last ?? .nan }
}

/// Trains `model` with AdamW on random batches of `dataset.train`, evaluating train and validation
/// loss before the first step, every `evalInterval` steps and after the last step. Each evaluation
/// averages the loss over the same `evalBatches` batches of each split.
///
/// `onProgress` is called after every step with the step number and that step's loss, and
/// `onEvaluation` after every evaluation with the curve so far. The model is switched to
/// evaluation mode (`setTraining(false)`) during evaluations and left in it at the end.
/// - Throws: `DatasetError.splitTooShort` when a split has no window of `blockSize + 1` tokens, and
///   `DivergenceError` as soon as a step's loss or an evaluated loss is not finite. A step whose
///   loss is not finite leaves the weights as they were before it.
public func train(
    _ model: some LanguageModel, on dataset: TokenDataset, settings: ShortTraining, generator: inout SeededGenerator,
    onProgress: (Int, Float) -> Void = { _, _ in },
    onEvaluation: (LossCurve) -> Void = { _ in }
) throws -> LossCurve {
    precondition(settings.steps >= 0, "train: steps must be at least 0, got \(settings.steps)")
    precondition(settings.batchSize >= 1, "train: batchSize must be at least 1, got \(settings.batchSize)")
    precondition(settings.evalInterval >= 1, "train: evalInterval must be at least 1, got \(settings.evalInterval)")
    precondition(settings.evalBatches >= 1, "train: evalBatches must be at least 1, got \(settings.evalBatches)")

    let optimizer = AdamW(parameters: model.namedParameters, learningRate: settings.learningRate, weightDecay: 0.01)
    // Every evaluation restarts its own generator from one seed, so all evaluations measure the same
    // batches and the curve shows the model changing, not the batches. Evaluating more or less often
    // therefore changes neither the training batches nor the measured losses.
    let evalSeed = generator.next()
    var curve = LossCurve()

    func evaluate(after step: Int) throws {
        model.setTraining(false)
        defer { model.setTraining(true) }
        var evalGenerator = SeededGenerator(seed: evalSeed)
        let trainLoss = try model.estimateLoss(
            on: dataset.train, batchCount: settings.evalBatches, batchSize: settings.batchSize,
            generator: &evalGenerator, splitName: "training")
        let validationLoss = try model.estimateLoss(
            on: dataset.validation, batchCount: settings.evalBatches, batchSize: settings.batchSize,
            generator: &evalGenerator, splitName: "validation")
        for (split, loss) in [("training", trainLoss), ("validation", validationLoss)] where !loss.isFinite {
            throw DivergenceError(
                step: step, measurement: "the mean \(split) loss measured after it", loss: loss,
                learningRate: settings.learningRate)
        }
        curve.steps.append(step)
        curve.train.append(trainLoss)
        curve.validation.append(validationLoss)
        onEvaluation(curve)
    }

    try evaluate(after: 0)
    for step in stride(from: 1, through: settings.steps, by: 1) {
        let started = Date()
        let batch = try TokenDataset.randomBatch(
            from: dataset.train, batchSize: settings.batchSize, blockSize: model.blockSize, generator: &generator)
        model.zeroGrad()
        let loss = model.loss(on: batch)
        let lossValue = loss.item
        // A loss of inf or nan makes every gradient and every later step meaningless.
        guard lossValue.isFinite else {
            throw DivergenceError(
                step: step, measurement: "the loss of its batch", loss: lossValue, learningRate: settings.learningRate)
        }
        loss.backward()
        optimizer.step()
        curve.trainingSeconds += Date().timeIntervalSince(started)
        onProgress(step, lossValue)
        if step % settings.evalInterval == 0 || step == settings.steps {
            try evaluate(after: step)
        }
    }
    model.setTraining(false)
    return curve
}

/// A training run whose loss stopped being a finite number, typically because a learning rate far
/// too large moved the weights so far that the logits overflowed.
public struct DivergenceError: Error, Equatable, CustomStringConvertible {
    /// The step at which the loss was not finite, counted from 1.
    public let step: Int
    /// The loss that was measured, as in "the loss of its batch".
    public let measurement: String
    /// The loss: infinite or NaN.
    public let loss: Float
    /// The learning rate of the run.
    public let learningRate: Float

    /// Creates an error for the loss `loss` measured at `step`.
    public init(step: Int, measurement: String, loss: Float, learningRate: Float) {
        self.step = step
        self.measurement = measurement
        self.loss = loss
        self.learningRate = learningRate
    }

    /// The message for the user: the step, the loss, the learning rate and what to try.
    public var description: String {
        "training diverged at step \(step): \(measurement) is \(Format.significant(loss)) with --lr \(Format.significant(learningRate))."
            + " At this learning rate the updates move the weights so far that the loss overflows."
            + " Pass a smaller --lr, such as the default that --help shows, and run again."
    }
}
