import Foundation

/// A character-level tokenizer: each Unicode scalar of the training text gets one id.
///
/// The unit is the Unicode scalar, not Swift's `Character`: "é" written as one precomposed scalar
/// (U+00E9) is one token, while "e" followed by a combining accent (U+0065 U+0301) is two, and an
/// emoji with a skin-tone modifier or a flag is several. Id 0 is always `[UNK]`, which stands for
/// every scalar the training text did not contain. The other ids follow the scalars' sorted order,
/// so the same text always gives the same vocabulary.
public struct CharTokenizer: Equatable, Codable {
    /// The text of the unknown token, `[UNK]`.
    public static let unknownToken = "[UNK]"
    /// The fixed id of `[UNK]`.
    public static let unknownID = 0

    /// The known scalars; the scalar at index i has id i + 1.
    public let scalars: [Unicode.Scalar]
    private let idsByScalar: [Unicode.Scalar: Int]

    /// Builds the vocabulary from every distinct scalar of `text`, in sorted order.
    /// - Throws: `TokenizerError.emptyText` when the text is empty.
    public init(training text: String) throws {
        guard !text.unicodeScalars.isEmpty else { throw TokenizerError.emptyText }
        self.init(scalars: Array(Set(text.unicodeScalars)).sorted { $0.value < $1.value })
    }

    /// Creates a tokenizer from a list of distinct scalars, which get ids 1, 2, … in the given order.
    public init(scalars: [Unicode.Scalar]) {
        self.scalars = scalars
        var ids: [Unicode.Scalar: Int] = [:]
        for (index, scalar) in scalars.enumerated() { ids[scalar] = index + 1 }
        idsByScalar = ids
    }

    /// The number of ids, including `[UNK]`.
    public var vocabSize: Int { scalars.count + 1 }

    /// Returns the id of each scalar of `text`, with `[UNK]` for scalars outside the vocabulary.
    public func encode(_ text: String) -> [Int] {
        text.unicodeScalars.map { idsByScalar[$0] ?? Self.unknownID }
    }

    /// Returns the scalars of `text` that are outside the vocabulary, each once, in order of appearance.
    public func unknownScalars(in text: String) -> [Unicode.Scalar] {
        var seen = Set<Unicode.Scalar>()
        return text.unicodeScalars.filter { idsByScalar[$0] == nil && seen.insert($0).inserted }
    }

    /// Returns the text of `ids`; `[UNK]` decodes to the replacement character U+FFFD.
    /// - Throws: `TokenizerError.idOutOfRange` for an id outside 0..<vocabSize.
    public func decode(_ ids: [Int]) throws -> String {
        var view = String.UnicodeScalarView()
        for id in ids {
            view.append(try scalar(for: id) ?? "\u{FFFD}")
        }
        return String(view)
    }

    /// Returns the scalar of `id`, or `nil` for `[UNK]`.
    /// - Throws: `TokenizerError.idOutOfRange` for an id outside 0..<vocabSize.
    public func scalar(for id: Int) throws -> Unicode.Scalar? {
        guard id >= 0 && id < vocabSize else {
            throw TokenizerError.idOutOfRange(id: id, vocabSize: vocabSize)
        }
        return id == Self.unknownID ? nil : scalars[id - 1]
    }

    /// Returns a printable label for `id`: the scalar, `[UNK]`, or an escape such as `\n` or `U+0301`.
    public func label(for id: Int) -> String {
        guard let scalar = try? scalar(for: id) else {
            return id == Self.unknownID ? Self.unknownToken : "<\(id)?>"
        }
        return printableLabel(scalar)
    }

    // MARK: Saving and loading

    private enum CodingKeys: String, CodingKey { case kind, unknownToken, scalars }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try container.decode(String.self, forKey: .kind)
        guard kind == "char" else {
            throw DecodingError.dataCorruptedError(forKey: .kind, in: container, debugDescription: "expected a character tokenizer (\"char\"), found \"\(kind)\"")
        }
        let values = try container.decode([UInt32].self, forKey: .scalars)
        var scalars: [Unicode.Scalar] = []
        for value in values {
            guard let scalar = Unicode.Scalar(value) else {
                throw DecodingError.dataCorruptedError(forKey: .scalars, in: container, debugDescription: "\(value) is not a Unicode scalar value")
            }
            scalars.append(scalar)
        }
        guard Set(scalars).count == scalars.count else {
            throw DecodingError.dataCorruptedError(forKey: .scalars, in: container, debugDescription: "the vocabulary lists a scalar twice")
        }
        self.init(scalars: scalars)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("char", forKey: .kind)
        try container.encode(Self.unknownToken, forKey: .unknownToken)
        try container.encode(scalars.map(\.value), forKey: .scalars)
    }

    /// Returns the vocabulary as JSON (sorted keys, so equal vocabularies give equal bytes).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }

    /// Reads a vocabulary saved by `jsonData()`.
    public init(jsonData data: Data) throws {
        self = try JSONDecoder().decode(CharTokenizer.self, from: data)
    }

    public static func == (a: CharTokenizer, b: CharTokenizer) -> Bool {
        a.scalars == b.scalars
    }
}

/// A tokenizer input that cannot be handled.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    /// The training text has no characters.
    case emptyText
    /// An id that is not in the vocabulary.
    case idOutOfRange(id: Int, vocabSize: Int)
    /// A BPE vocabulary size smaller than the byte tokens it must start with.
    case vocabSizeTooSmall(requested: Int, minimum: Int)

    public var description: String {
        switch self {
        case .emptyText:
            return "the training text is empty, but a tokenizer needs at least one character to build a vocabulary."
        case let .idOutOfRange(id, vocabSize):
            return "token id \(id) is outside the vocabulary, whose ids are 0..<\(vocabSize). Decode only ids this tokenizer produced."
        case let .vocabSizeTooSmall(requested, minimum):
            return "a BPE vocabulary size of \(requested) is too small, because it starts with \(minimum) byte tokens. Ask for at least \(minimum)."
        }
    }
}

/// Returns a one-cell label for a scalar: itself when printable, otherwise a stand-in (`\n`, `␣`,
/// `U+0301`). The space is "␣", as in StepKit's `Format.visible`, so every step shows it alike.
public func printableLabel(_ scalar: Unicode.Scalar) -> String {
    switch scalar {
    case "\n": return "\\n"
    case "\t": return "\\t"
    case " ": return "␣"
    default:
        let properties = scalar.properties
        if properties.generalCategory == .nonspacingMark || properties.generalCategory == .control
            || properties.generalCategory == .format || properties.generalCategory == .spaceSeparator {
            return String(format: "U+%04X", scalar.value)
        }
        return String(scalar)
    }
}
