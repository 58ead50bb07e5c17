import BigramStep
import DatasetStep
import Foundation
import StepKit
import TokenizerStep

/// The default values of the training flags; each program from step 04 on picks its own.
public struct TrainingDefaults {
    /// Optimizer steps, `--steps`.
    public var steps: Int
    /// Sequences per batch, `--batch-size`.
    public var batchSize: Int
    /// Context length, `--block-size`.
    public var blockSize: Int
    /// Width of token vectors, `--embed-dim`.
    public var embedDim: Int
    /// AdamW's learning rate, `--lr`.
    public var learningRate: Float
    /// Steps between two loss evaluations, `--eval-interval`.
    public var evalInterval: Int
    /// Share of the tokens kept for validation, `--val-fraction`.
    public var valFraction: Double

    /// Creates defaults; the values given here train step 04's model on the embedded corpus in seconds.
    public init(
        steps: Int = 2000, batchSize: Int = 16, blockSize: Int = 16, embedDim: Int = 32,
        learningRate: Float = 1e-2, evalInterval: Int = 250, valFraction: Double = 0.1
    ) {
        self.steps = steps
        self.batchSize = batchSize
        self.blockSize = blockSize
        self.embedDim = embedDim
        self.learningRate = learningRate
        self.evalInterval = evalInterval
        self.valFraction = valFraction
    }
}

/// The flags every training program from step 04 on has: the run's length, the model's sizes,
/// the validation split and where to write the loss plot.
public struct TrainingFlags {
    /// `--steps`: optimizer steps.
    public let steps: Flag<Int>
    /// `--batch-size`: sequences per batch, B.
    public let batchSize: Flag<Int>
    /// `--block-size`: context length, T.
    public let blockSize: Flag<Int>
    /// `--embed-dim`: width of token vectors, C.
    public let embedDim: Flag<Int>
    /// `--lr`: AdamW's learning rate.
    public let learningRate: Flag<Float>
    /// `--eval-interval`: steps between two loss evaluations.
    public let evalInterval: Flag<Int>
    /// `--val-fraction`: share of the tokens kept for validation.
    public let valFraction: Flag<Double>
    /// `--plot`: path of an SVG file for the loss curves, or nil for no plot.
    public let plot: Flag<String?>
    /// `--timing`: whether to print how long training took.
    public let timing: Flag<Bool>

    /// The training settings the parsed flags choose.
    public var settings: ShortTraining {
        ShortTraining(
            steps: steps.value, batchSize: batchSize.value, learningRate: learningRate.value,
            evalInterval: evalInterval.value)
    }

    /// Tokenizes `corpus` and splits it as `--val-fraction` sets, after checking that the folder of
    /// `--plot` exists, so that a run never fails after training.
    /// - Throws: `StepError` when the folder of `--plot` is missing or either split is too short for
    ///   one window of `--block-size` + 1 tokens.
    public func prepareData(_ corpus: Corpus) throws -> TokenizedCorpus {
        if let path = plot.value {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
                throw StepError(
                    "cannot write --plot \(path): the folder \(folder) does not exist."
                        + " Create it with `mkdir -p \(folder)` or pass another path.")
            }
        }
        let data = try TokenizedCorpus(text: corpus.text, valFraction: valFraction.value)
        try data.checkWindows(blockSize: blockSize.value)
        return data
    }
}

extension FlagParser {
    /// Registers `--steps`, `--batch-size`, `--block-size`, `--embed-dim`, `--lr`, `--eval-interval`,
    /// `--val-fraction`, `--plot` and `--timing` with the given defaults.
    public mutating func trainingFlags(_ defaults: TrainingDefaults = TrainingDefaults()) -> TrainingFlags {
        TrainingFlags(
            steps: int("steps", default: defaults.steps, range: .atLeast(0), help: "optimizer steps (AdamW)"),
            batchSize: int("batch-size", default: defaults.batchSize, range: .atLeast(1), help: "sequences per batch, B"),
            blockSize: int("block-size", default: defaults.blockSize, range: .atLeast(1), help: "context length in tokens, T"),
            embedDim: int("embed-dim", default: defaults.embedDim, range: .atLeast(1), help: "width of each token vector, C"),
            learningRate: float("lr", default: defaults.learningRate, range: .above(0), help: "AdamW learning rate"),
            evalInterval: int(
                "eval-interval", default: defaults.evalInterval, range: .atLeast(1),
                help: "steps between two measurements of the train and validation loss"),
            valFraction: double(
                "val-fraction", default: defaults.valFraction, range: .atLeast(0, below: 1),
                help: "share of the text, taken from its end, kept for validation"),
            plot: optionalPath("plot", help: "write the loss curves to this SVG file"),
            timing: bool("timing", help: "print how long the training steps took (varies from run to run)"))
    }
}

/// A corpus turned into token ids by a character tokenizer and split into training and validation ids.
public struct TokenizedCorpus {
    /// The tokenizer built from the whole text.
    public let tokenizer: CharTokenizer
    /// The ids, split into `train` and `validation`.
    public let dataset: TokenDataset

    /// Builds the vocabulary from `text`, encodes it, and keeps the last `valFraction` for validation.
    /// - Throws: `TokenizerError.emptyText` for empty text and `DatasetError.invalidFraction`
    ///   unless 0 ≤ valFraction < 1.
    public init(text: String, valFraction: Double) throws {
        tokenizer = try CharTokenizer(training: text)
        dataset = try TokenDataset(ids: tokenizer.encode(text), valFraction: valFraction)
    }

    /// The number of ids, including `[UNK]`.
    public var vocabSize: Int { tokenizer.vocabSize }

    /// One line describing the split, as in `vocabulary 41 tokens · 3,645 training and 405 validation tokens`.
    public var summary: String {
        "vocabulary \(vocabSize) tokens · " + Format.grouped(dataset.train.count) + " training and "
            + Format.grouped(dataset.validation.count) + " validation tokens"
    }

    /// The conditional entropy H(next | current) of the training ids, by counting pairs: the lowest
    /// mean training loss of any model whose prediction depends on the current token alone.
    public var bigramEntropy: Double {
        BigramCounts(ids: dataset.train, vocabularySize: vocabSize).conditionalEntropy
    }

    /// Throws unless both splits hold at least one window of `blockSize` + 1 tokens, the shortest
    /// stretch a batch can be cut from.
    /// - Throws: `StepError` naming the short split, its length and the flags that fix it.
    public func checkWindows(blockSize: Int) throws {
        // The shorter split limits the block size, so the message names it and the largest value that fits.
        let splits = [("training", dataset.train.count), ("validation", dataset.validation.count)]
        let (name, count) = splits.min { $0.1 < $1.1 }!
        guard TokenDataset.windowCount(tokenCount: count, blockSize: blockSize) == 0 else { return }
        let fix: String
        switch count {
        case 0, 1: fix = "Pass a longer text or a different --val-fraction."
        case 2: fix = "Pass --block-size 1 (the only size that fits), a longer text, or a different --val-fraction."
        default: fix = "Pass --block-size \(count - 1) or less, a longer text, or a different --val-fraction."
        }
        throw StepError(
            "the \(name) split has \(count == 1 ? "1 token" : "\(count) tokens"), but one sequence of --block-size \(blockSize)"
                + " needs \(blockSize + 1) (the inputs and the next token). " + fix)
    }

    /// Returns the ids of `text`, or the first `blockSize` validation ids when `text` is nil: the
    /// context that `--context` chooses for a program's probes and attention matrices.
    /// - Throws: `StepError` when `text` has fewer than `minimumCount` or more than `blockSize`
    ///   tokens, or has characters the training text lacks.
    public func contextIDs(_ text: String?, blockSize: Int, minimumCount: Int = 1) throws -> [Int] {
        guard let text else {
            return Array(dataset.validation.prefix(blockSize))
        }
        let unknown = tokenizer.unknownScalars(in: text)
        guard unknown.isEmpty else {
            let shown = unknown.map { printableLabel($0) }.joined(separator: " ")
            throw StepError(
                "--context \"\(text)\" contains characters the training text does not have: \(shown)."
                    + " Use only characters that occur in the corpus.")
        }
        let ids = tokenizer.encode(text)
        guard ids.count >= minimumCount && ids.count <= blockSize else {
            let length = ids.count == 1 ? "1 token" : "\(ids.count) tokens"
            throw StepError(
                invalid: "--context", value: "\"\(text)\"",
                rule: "it has \(length), but it needs at least \(minimumCount) and at most \(blockSize), the --block-size",
                fix: "Pass a context of \(minimumCount) to \(blockSize) characters, or change --block-size.")
        }
        return ids
    }
}
