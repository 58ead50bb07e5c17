import BigramStep
import DatasetStep
import Foundation
import MLPStep
import MultiHeadAttentionStep
import SelfAttentionStep
import StepKit
import Tensor
import TransformerBlockStep

/// The model of one step, as the loss ladder trains it.
public enum LadderRung: Int, CaseIterable {
    /// Step 00: a `[V, V]` table of next-token logits.
    case bigram
    /// Step 04: embeddings and an MLP applied to each position on its own.
    case mlp
    /// Step 05: one causal self-attention head before the MLP.
    case singleHead
    /// Step 06: several heads and a projection before the MLP.
    case multiHead
    /// Step 07: one pre-norm transformer block with residual connections.
    case block
    /// Step 08: a stack of blocks with a tied head.
    case transformer

    /// The number of the step that builds this model.
    public var step: Int {
        switch self {
        case .bigram: return 0
        case .mlp: return 4
        case .singleHead: return 5
        case .multiHead: return 6
        case .block: return 7
        case .transformer: return 8
        }
    }
}

/// The one budget and the sizes every rung of the ladder trains with.
public struct LadderSettings {
    /// Steps, batch size, learning rate and how often the curve is measured.
    public var training: ShortTraining
    /// The context length, T.
    public var blockSize: Int
    /// The width of token vectors, C.
    public var embedDim: Int
    /// The heads of the multi-head rungs.
    public var numHeads: Int
    /// The blocks of the step 08 rung.
    public var numLayers: Int
    /// The share of the text, taken from its end, kept for validation.
    public var valFraction: Double

    /// Creates settings. The defaults are the sizes of the classic character-level ladder on
    /// tinyshakespeare (5000 steps of 32 sequences of 8 tokens, width 32, 4 heads).
    ///
    /// The default learning rate is 5e-3 rather than that ladder's 1e-3. Every model here starts
    /// from GPT-2's initialisation (standard deviation 0.02). With `--ladder --lr 1e-3` on
    /// tinyshakespeare, the rungs without LayerNorm (steps 05 and 06) ended at about 2.5, the
    /// bigram's level, after 5000 steps.
    public init(
        steps: Int = 5000, batchSize: Int = 32, blockSize: Int = 8, embedDim: Int = 32, numHeads: Int = 4,
        numLayers: Int = 4, learningRate: Float = 5e-3, evalInterval: Int = 500, evalBatches: Int = 10,
        valFraction: Double = 0.1
    ) {
        training = ShortTraining(
            steps: steps, batchSize: batchSize, learningRate: learningRate, evalInterval: evalInterval,
            evalBatches: evalBatches)
        self.blockSize = blockSize
        self.embedDim = embedDim
        self.numHeads = numHeads
        self.numLayers = numLayers
        self.valFraction = valFraction
    }

    /// The width of the hidden layer of the MLP rungs: 4·C, as inside a block.
    public var hiddenSize: Int { 4 * embedDim }
}

/// The size and the losses of one trained rung.
public struct LadderResult {
    /// The rung.
    public let rung: LadderRung
    /// The model in a few words, with its sizes.
    public let model: String
    /// The model's trainable values.
    public let parameterCount: Int
    /// Train and validation loss measured on random batches during training.
    public let curve: LossCurve
    /// The mean loss over every window of the training split after training.
    public let trainLoss: Float
    /// The mean loss over every window of the validation split after training.
    public let validationLoss: Float
}

/// The models of steps 00 and 04 to 08 trained on one text with one budget and seed, so their
/// losses can be compared rung by rung.
///
/// Every rung draws its initial weights from the same seed and its batches from a second seed
/// derived from it, so all rungs see the same batches in the same order. After training, the loss
/// is measured over every window of each split, which removes the noise of random batches.
public struct LossLadder {
    /// The budget and sizes.
    public let settings: LadderSettings
    /// The text as character ids with `[UNK]` (steps 01 on), split into training and validation ids.
    public let data: TokenizedCorpus
    /// Step 00's vocabulary of the text, which has no `[UNK]`.
    public let bigramVocabulary: BigramVocabulary
    /// The same split in step 00's ids.
    public let bigramDataset: TokenDataset

    /// Tokenizes `text` both ways and splits it.
    /// - Throws: `StepError` when a split is too short for one window of `blockSize + 1` tokens, and
    ///   `BigramError.textTooShort` for a text of fewer than 2 characters.
    public init(text: String, settings: LadderSettings) throws {
        self.settings = settings
        data = try TokenizedCorpus(text: text, valFraction: settings.valFraction)
        try data.checkWindows(blockSize: settings.blockSize)
        bigramVocabulary = try BigramVocabulary(text: text)
        bigramDataset = try TokenDataset(ids: bigramVocabulary.ids(for: text), valFraction: settings.valFraction)
        // Both tokenizers give one id per Unicode scalar, so the splits cut the text at the same place.
        precondition(
            bigramDataset.train.count == data.dataset.train.count,
            "LossLadder: the bigram split has \(bigramDataset.train.count) training ids, the others \(data.dataset.train.count)")
    }

    /// Returns the model of `rung`, its initial weights drawn from `generator`.
    /// - Throws: `AttentionConfigurationError` unless `numHeads` divides `embedDim`.
    public func makeModel(_ rung: LadderRung, generator: inout SeededGenerator) throws -> any LanguageModel {
        let (v, t, c) = (data.vocabSize, settings.blockSize, settings.embedDim)
        let hidden = settings.hiddenSize
        switch rung {
        case .bigram:
            return BigramLanguageModel(vocabulary: bigramVocabulary, blockSize: t)
        case .mlp:
            return MLPLanguageModel(vocabSize: v, blockSize: t, embedDim: c, hiddenSize: hidden, depth: 1, generator: &generator)
        case .singleHead:
            return AttentionLanguageModel(
                vocabSize: v, blockSize: t, embedDim: c, hiddenSize: hidden, depth: 1, generator: &generator)
        case .multiHead:
            return try MultiHeadLanguageModel(
                vocabSize: v, blockSize: t, embedDim: c, numHeads: settings.numHeads, hiddenSize: hidden, depth: 1,
                generator: &generator)
        case .block:
            return try BlockLanguageModel(vocabSize: v, blockSize: t, embedDim: c, numHeads: settings.numHeads, generator: &generator)
        case .transformer:
            let config = GPTConfig(vocabSize: v, blockSize: t, embedDim: c, numHeads: settings.numHeads, numLayers: settings.numLayers)
            return try GPT(config: config, generator: &generator)
        }
    }

    /// Returns the model of `rung` in a few words, with the sizes the settings give it.
    public func modelDescription(_ rung: LadderRung) -> String {
        let hidden = "MLP " + String(settings.embedDim) + "→" + String(settings.hiddenSize)
        let heads = settings.numHeads
        switch rung {
        case .bigram: return "bigram table"
        case .mlp: return "embeddings + " + hidden
        case .singleHead: return "1 attention head + " + hidden
        case .multiHead: return "\(heads) heads + " + hidden
        case .block: return "1 pre-norm block, \(heads) heads"
        case .transformer: return "GPT, \(settings.numLayers) blocks, \(heads) heads"
        }
    }

    /// Trains the model of `rung` and measures its loss on both whole splits.
    /// - Parameters:
    ///   - seed: the seed of the initial weights and of the batches; the same for every rung.
    ///   - onProgress: called after every step with the step number and that step's loss.
    /// - Throws: `AttentionConfigurationError` unless `numHeads` divides `embedDim`.
    public func run(_ rung: LadderRung, seed: UInt64, onProgress: (Int, Float) -> Void = { _, _ in }) throws -> LadderResult {
        var seeds = SeededGenerator(seed: seed)
        var modelGenerator = SeededGenerator(seed: seeds.next())
        var batchGenerator = SeededGenerator(seed: seeds.next())
        let model = try makeModel(rung, generator: &modelGenerator)
        let dataset = rung == .bigram ? bigramDataset : data.dataset

        let curve = try train(model, on: dataset, settings: settings.training, generator: &batchGenerator, onProgress: onProgress)
        let windowsPerBatch = 256
        return LadderResult(
            rung: rung, model: modelDescription(rung), parameterCount: model.parameterCount, curve: curve,
            trainLoss: model.wholeSplitLoss(on: dataset.train, windowsPerBatch: windowsPerBatch),
            validationLoss: model.wholeSplitLoss(on: dataset.validation, windowsPerBatch: windowsPerBatch))
    }
}

/// Step 00's bigram table behind the `LanguageModel` interface, so the ladder trains and measures
/// it like every later model. The logits at position t depend on the id at t alone.
public final class BigramLanguageModel: LanguageModel {
    /// The `[V, V]` table of logits.
    public let bigram: BigramModel
    /// The context length of the batches it is given; the table itself reads one id.
    public let blockSize: Int

    /// Creates a table of zeros over `vocabulary`, so every prediction starts uniform.
    public init(vocabulary: BigramVocabulary, blockSize: Int) {
        bigram = BigramModel(vocabulary: vocabulary)
        self.blockSize = blockSize
    }

    /// Returns the logits `[B, T, V]` for ids `[B, T]`: row t is the table row of id t.
    public func logits(_ ids: [Int], shape: [Int]) -> Tensor {
        bigram.logits(for: ids).reshaped(shape + [bigram.vocabulary.size])
    }
}

extension LanguageModel {
    /// Returns the mean loss over every target of `ids` once: the ids are cut into consecutive
    /// windows of `blockSize` inputs (starting at 0, `blockSize`, 2·`blockSize`, …) and the few ids
    /// after the last complete window are left out. No graph is recorded.
    ///
    /// Unlike `estimateLoss`, which averages random batches, the result has no sampling noise.
    public func wholeSplitLoss(on ids: [Int], windowsPerBatch: Int = 256) -> Float {
        precondition(windowsPerBatch >= 1, "wholeSplitLoss: windowsPerBatch must be at least 1, got \(windowsPerBatch)")
        let windowCount = (ids.count - 1) / blockSize
        precondition(windowCount >= 1, "wholeSplitLoss: \(ids.count) ids hold no window of \(blockSize) + 1")
        let starts = (0..<windowCount).map { $0 * blockSize }

        var total: Double = 0
        var first = 0
        while first < windowCount {
            let batchStarts = Array(starts[first..<min(first + windowsPerBatch, windowCount)])
            let batch = TokenDataset.batch(from: ids, starts: batchStarts, blockSize: blockSize)
            // crossEntropy is the mean over the batch's B·T targets; weight it by their number.
            let mean = Tensor.withoutGradients { loss(on: batch).item }
            total += Double(mean) * Double(batchStarts.count * blockSize)
            first += windowsPerBatch
        }
        return Float(total / Double(windowCount * blockSize))
    }
}
