import Foundation
import MultiHeadAttentionStep
import TransformerStep

/// Everything that defines a training run: the model's sizes and the optimizer's settings.
public struct TrainingConfig: Codable, Equatable {
    /// The model's sizes; `vocabSize` is filled in from the tokenizer.
    public var model: GPTConfig
    /// Sequences per batch, B.
    public var batchSize: Int
    /// The number of optimizer steps.
    public var maxSteps: Int
    /// The peak learning rate, reached at the end of warmup.
    public var learningRate: Float
    /// The learning rate at the end of the cosine decay.
    public var minLearningRate: Float
    /// Steps of linear warmup.
    public var warmupSteps: Int
    /// AdamW's decoupled weight decay, on 2-D weights only.
    public var weightDecay: Float
    /// AdamW's moment decay rates.
    public var beta1: Float, beta2: Float
    /// The maximum global gradient norm, or `nil` to train without clipping.
    public var maxGradNorm: Float?
    /// Steps between evaluations of train and validation loss.
    public var evalInterval: Int
    /// Batches averaged in each evaluation.
    public var evalBatches: Int
    /// Steps between checkpoints (the end of the run always writes one).
    public var checkpointInterval: Int
    /// The fraction of tokens held out for validation.
    public var valFraction: Double
    /// The seed of weights, batches and dropout.
    public var seed: UInt64

    /// Returns a preset by name. `default` trains in seconds on the embedded corpus, and
    /// `shakespeare-cpu` is nanoGPT's CPU configuration for tinyshakespeare.
    public static func preset(named name: String) throws -> TrainingConfig {
        switch name {
        case "default":
            return TrainingConfig(
                model: GPTConfig(vocabSize: 0, blockSize: 32, embedDim: 64, numHeads: 4, numLayers: 2),
                batchSize: 16, maxSteps: 400, learningRate: 3e-3, minLearningRate: 3e-4, warmupSteps: 40,
                weightDecay: 0.1, beta1: 0.9, beta2: 0.99, maxGradNorm: 1.0, evalInterval: 50, evalBatches: 8,
                checkpointInterval: 200, valFraction: 0.1, seed: 1337)
        case "shakespeare-cpu":
            return TrainingConfig(
                model: GPTConfig(vocabSize: 0, blockSize: 64, embedDim: 128, numHeads: 4, numLayers: 4),
                batchSize: 12, maxSteps: 2000, learningRate: 1e-3, minLearningRate: 1e-4, warmupSteps: 100,
                weightDecay: 0.1, beta1: 0.9, beta2: 0.99, maxGradNorm: 1.0, evalInterval: 250, evalBatches: 200,
                checkpointInterval: 500, valFraction: 0.1, seed: 1337)
        default:
            throw TrainingError.unknownPreset(name, known: presetNames)
        }
    }

    /// The names `preset(named:)` accepts.
    public static let presetNames = ["default", "shakespeare-cpu"]

    /// Throws `TrainingError.invalidSetting` for a value no run can use, or
    /// `AttentionConfigurationError` when `--heads` does not divide `--embed-dim`.
    public func validate() throws {
        func require(_ condition: Bool, _ flag: String, _ value: Any, _ rule: String) throws {
            if !condition { throw TrainingError.invalidSetting(flag: flag, value: "\(value)", rule: rule) }
        }
        try require(batchSize >= 1, "--batch-size", batchSize, "must be at least 1")
        try require(maxSteps >= 1, "--max-steps", maxSteps, "must be at least 1")
        try require(learningRate > 0 && learningRate.isFinite, "--lr", learningRate, "must be a positive number such as 1e-3")
        try require(minLearningRate >= 0 && minLearningRate <= learningRate, "--min-lr", minLearningRate, "must be between 0 and --lr (\(learningRate))")
        try require(warmupSteps >= 0, "--warmup-steps", warmupSteps, "must be 0 or more")
        try require(maxGradNorm.map { $0 > 0 && $0.isFinite } ?? true, "--clip", maxGradNorm ?? 0, "must be a positive number such as 1.0 (or use --no-clip)")
        try require(evalInterval >= 1, "--eval-interval", evalInterval, "must be at least 1")
        try require(evalBatches >= 1, "--eval-batches", evalBatches, "must be at least 1")
        try require(checkpointInterval >= 1, "--checkpoint-interval", checkpointInterval, "must be at least 1")
        try require(model.blockSize >= 1, "--block-size", model.blockSize, "must be at least 1")
        try require(model.embedDim >= 1, "--embed-dim", model.embedDim, "must be at least 1")
        try AttentionConfigurationError.check(embedDim: model.embedDim, numHeads: model.numHeads)
        try require(model.numLayers >= 1, "--layers", model.numLayers, "must be at least 1")
        try require(model.dropout >= 0 && model.dropout < 1, "--dropout", model.dropout, "must be at least 0 and below 1")
        try require(valFraction > 0 && valFraction < 1, "--val-fraction", valFraction, "must be above 0 and below 1, such as 0.1, so both splits have text")
    }
}

/// The learning rate at each step: a linear warmup to the peak, then a cosine decay that reaches the
/// minimum at the run's last step (nanoGPT's schedule, whose last step also uses the minimum).
///
/// With W warmup steps and N steps in all, counted from 0: step s < W gets peak·(s + 1)/(W + 1), so
/// the first rate is above zero; steps W … N − 1 get min + ½(1 + cos(π·p))·(peak − min) with
/// p = (s − W)/(N − 1 − W), so step W gets the peak and step N − 1 the minimum. Steps past the end
/// keep the minimum.
public struct LearningRateSchedule {
    /// The peak rate.
    public let maximum: Float
    /// The final rate.
    public let minimum: Float
    /// Steps of warmup.
    public let warmupSteps: Int
    /// The number of steps in the run; the decay ends at step `decaySteps − 1`.
    public let decaySteps: Int

    /// Creates the schedule of a run's config.
    public init(config: TrainingConfig) {
        maximum = config.learningRate
        minimum = config.minLearningRate
        warmupSteps = config.warmupSteps
        decaySteps = config.maxSteps
    }

    /// Returns the rate for `step`, counted from 0.
    public func rate(at step: Int) -> Float {
        if step < warmupSteps {
            return maximum * Float(step + 1) / Float(warmupSteps + 1)
        }
        let lastStep = decaySteps - 1
        // A run that ends inside its warmup, or right at its end, has no steps left to decay over.
        guard lastStep > warmupSteps else {
            return maximum
        }
        let progress = min(Double(step - warmupSteps) / Double(lastStep - warmupSteps), 1)
        let cosine = 0.5 * (1 + cos(Double.pi * progress))
        return minimum + Float(cosine) * (maximum - minimum)
    }
}
