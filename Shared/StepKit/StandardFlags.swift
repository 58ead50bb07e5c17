/// The flags every step program has: `--seed`, `--text` and `--text-file`.
public struct StandardFlags {
    /// `--seed`: the seed of every random draw, so a run can be repeated exactly.
    public let seed: Flag<UInt64>

    /// `--text`: literal text to use as the corpus.
    public let text: Flag<String?>

    /// `--text-file`: path of a UTF-8 file to use as the corpus.
    public let textFile: Flag<String?>

    /// The corpus used when neither `--text` nor `--text-file` is given.
    public let defaultCorpus: DefaultCorpus

    /// Loads the corpus the parsed flags choose; call it after `FlagParser.parse(_:)`.
    /// - Throws: `StepError` as `Corpus.load(text:textFile:default:)` describes.
    public func loadCorpus() throws -> Corpus {
        try Corpus.load(text: text.value, textFile: textFile.value, default: defaultCorpus)
    }
}

extension FlagParser {
    /// Registers `--seed`, `--text` and `--text-file`, which every step program has.
    /// - Parameters:
    ///   - seed: the default of `--seed`.
    ///   - defaultCorpus: the corpus used when neither `--text` nor `--text-file` is given.
    public mutating func standardFlags(seed: UInt64 = 42, defaultCorpus: DefaultCorpus = .embedded) -> StandardFlags {
        let corpusName: String
        switch defaultCorpus {
        case .embedded: corpusName = "the embedded default corpus"
        case .tinyShakespeare: corpusName = "data/tinyshakespeare.txt"
        }

        let seedFlag = uint64("seed", default: seed, help: "seed of every random draw; the same seed repeats a run exactly")
        let textFlag = optionalText(
            "text", placeholder: "text", expected: "text",
            help: "literal text to use as the corpus instead of a file",
            defaultText: corpusName)
        let textFileFlag = optionalText(
            "text-file", placeholder: "path", expected: "a file path",
            help: "UTF-8 text file to use as the corpus",
            defaultText: corpusName)
        return StandardFlags(seed: seedFlag, text: textFlag, textFile: textFileFlag, defaultCorpus: defaultCorpus)
    }
}
