import Foundation
import Tensor
import TokenizerStep
import TrainingStep
import TransformerStep

/// A GPT with its tokenizer and settings, loaded from a step 09 checkpoint or taken from a trainer.
public struct TrainedModel {
    /// The model, in evaluation mode (dropout off).
    public let model: GPT
    /// The vocabulary the model was trained with.
    public let tokenizer: CharTokenizer
    /// The settings of the run that trained it.
    public let config: TrainingConfig
    /// The number of steps the model was trained for.
    public let step: Int

    /// Wraps a trained model.
    public init(model: GPT, tokenizer: CharTokenizer, config: TrainingConfig, step: Int) {
        model.setTraining(false)
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        self.step = step
    }

    /// Takes the model of a trainer as it is now.
    public init(trainer: Trainer) {
        self.init(model: trainer.model, tokenizer: trainer.tokenizer, config: trainer.config, step: trainer.step)
    }

    /// Loads the checkpoint in `folder`, a run folder such as `runs/default` or its `checkpoint`
    /// folder.
    /// - Throws: `TrainingError.checkpointMissing` when a file is missing, and `CheckpointError`
    ///   when the weights do not fit the saved settings.
    public static func load(from folder: URL) throws -> TrainedModel {
        let checkpoint = try Trainer.checkpointFolder(folder)
        let (config, tokenizer) = try Trainer.loadConfig(from: folder)
        // The weights come from the file, so the generator only fills tensors that are overwritten.
        var generator = SeededGenerator(seed: config.seed)
        let model = try GPT(config: config.model, generator: &generator)
        let metadata = try model.loadParameters(from: checkpoint.appendingPathComponent("model.safetensors"))
        return TrainedModel(model: model, tokenizer: tokenizer, config: config, step: metadata["step"].flatMap { Int($0) } ?? 0)
    }

    /// Returns the logits `[vocabSize]` for the token after `context`, cropped to the last
    /// `blockSize` ids as generation does.
    public func nextTokenLogits(after context: [Int]) -> [Float] {
        precondition(!context.isEmpty, "nextTokenLogits: the context needs at least one id")
        return model.lastPositionLogits(Array(context.suffix(model.blockSize)))
    }
}
