import Foundation

/// A byte-level byte-pair-encoding (BPE) tokenizer: ids 0–255 are the 256 byte values, and each
/// further id stands for a pair of earlier ids that training found next to each other most often.
///
/// Text is read as its UTF-8 bytes, so every string can be encoded and nothing is ever unknown:
/// a character the training text never contained is still a sequence of byte tokens. Decoding
/// joins the bytes of the ids and reads them as UTF-8; a sequence that is not valid UTF-8, such as
/// half of a multi-byte character, becomes U+FFFD instead of failing.
///
/// Unlike GPT-2, which first splits text into words and merges only inside them, this tokenizer
/// merges across spaces and punctuation too, so one token may end a word and start the next.
public struct BPETokenizer: Equatable, Codable {
    /// One learned merge: the adjacent pair `left`, `right` that becomes the single id `id`.
    public struct Merge: Equatable {
        /// The id of the first token of the pair.
        public let left: Int
        /// The id of the second token of the pair.
        public let right: Int
        /// The id of the merged token, 256 + the merge's position in `merges`.
        public let id: Int
    }

    /// The number of byte tokens, ids 0..<256, that every vocabulary starts with.
    public static let byteTokenCount = 256

    /// The merges in the order training learned them, which is the order `encode` applies them.
    public let merges: [Merge]

    /// The bytes each id stands for, indexed by id.
    private let bytesByID: [[UInt8]]

    /// Creates a tokenizer from merge pairs; pair i becomes id 256 + i and may use only ids below that.
    public init(mergePairs: [(left: Int, right: Int)]) {
        var bytesByID = (0..<Self.byteTokenCount).map { [UInt8($0)] }
        var merges: [Merge] = []
        for (index, pair) in mergePairs.enumerated() {
            let id = Self.byteTokenCount + index
            precondition(pair.left >= 0 && pair.left < id && pair.right >= 0 && pair.right < id,
                         "BPETokenizer: merge \(index) joins (\(pair.left), \(pair.right)), but it may only use ids 0..<\(id)")
            merges.append(Merge(left: pair.left, right: pair.right, id: id))
            bytesByID.append(bytesByID[pair.left] + bytesByID[pair.right])
        }
        self.merges = merges
        self.bytesByID = bytesByID
    }

    /// The number of ids: 256 byte tokens plus one per merge.
    public var vocabSize: Int { bytesByID.count }

    // MARK: Encoding and decoding

    /// Returns the ids of `text`: its UTF-8 bytes, with every merge applied in training order.
    ///
    /// Each merge replaces the occurrences of its pair from left to right, so "aaa" with the merge
    /// (a, a) becomes [aa, a]. Training merges the same way, so encoding the training text repeats
    /// its segmentation exactly.
    public func encode(_ text: String) -> [Int] {
        var ids = text.utf8.map { Int($0) }
        for merge in merges where ids.count >= 2 {
            ids = Self.replacing(merge.left, merge.right, with: merge.id, in: ids)
        }
        return ids
    }

    /// Returns the bytes of `ids`, joined in order.
    /// - Throws: `TokenizerError.idOutOfRange` for an id outside 0..<vocabSize.
    public func decodeBytes(_ ids: [Int]) throws -> [UInt8] {
        var bytes: [UInt8] = []
        for id in ids {
            bytes += try self.bytes(for: id)
        }
        return bytes
    }

    /// Returns the text of `ids`; bytes that are not valid UTF-8 become U+FFFD.
    /// - Throws: `TokenizerError.idOutOfRange` for an id outside 0..<vocabSize.
    public func decode(_ ids: [Int]) throws -> String {
        String(decoding: try decodeBytes(ids), as: UTF8.self)
    }

    /// Returns the bytes one id stands for.
    /// - Throws: `TokenizerError.idOutOfRange` for an id outside 0..<vocabSize.
    public func bytes(for id: Int) throws -> [UInt8] {
        guard id >= 0 && id < vocabSize else {
            throw TokenizerError.idOutOfRange(id: id, vocabSize: vocabSize)
        }
        return bytesByID[id]
    }

    /// Returns a printable label for `id`: its text with invisible characters escaped as
    /// `printableLabel` does, and each byte that is not part of a whole UTF-8 character as `\xHH`.
    public func label(for id: Int) -> String {
        guard let bytes = try? bytes(for: id) else { return "<\(id)?>" }
        return printableLabel(utf8: bytes)
    }

    // MARK: Training

    /// Learns merges from `text` until the vocabulary has `vocabSize` ids or no adjacent pair of
    /// tokens occurs twice, whichever comes first.
    ///
    /// Each round counts every adjacent pair of the current tokens (overlapping pairs count, so
    /// "aaa" contains (a, a) twice), merges the most frequent pair into a new id, and replaces its
    /// occurrences from left to right. A tie goes to the pair with the smallest ids, compared left
    /// id first, so the same text always learns the same merges.
    /// - Parameter progress: called after each merge with the number of merges learned so far.
    /// - Throws: `TokenizerError.emptyText` for an empty text, and
    ///   `TokenizerError.vocabSizeTooSmall` when `vocabSize` is below 256.
    public static func train(
        on text: String, vocabSize: Int, progress: ((_ mergeCount: Int) -> Void)? = nil
    ) throws -> BPETraining {
        guard !text.utf8.isEmpty else { throw TokenizerError.emptyText }
        guard vocabSize >= byteTokenCount else {
            throw TokenizerError.vocabSizeTooSmall(requested: vocabSize, minimum: byteTokenCount)
        }

        var ids = text.utf8.map { Int($0) }
        var pairs: [(left: Int, right: Int)] = []
        var counts: [Int] = []
        while byteTokenCount + pairs.count < vocabSize {
            guard let best = mostFrequentPair(in: ids), best.count >= 2 else { break }
            let id = byteTokenCount + pairs.count
            ids = replacing(best.left, best.right, with: id, in: ids)
            pairs.append((best.left, best.right))
            counts.append(best.count)
            progress?(pairs.count)
        }
        return BPETraining(
            tokenizer: BPETokenizer(mergePairs: pairs), requestedVocabSize: vocabSize,
            mergeCounts: counts, trainingTokenCount: ids.count)
    }

    /// Returns the adjacent pair that occurs most often, ties going to the smallest (left, right),
    /// or nil when `ids` has fewer than 2 ids.
    static func mostFrequentPair(in ids: [Int]) -> (left: Int, right: Int, count: Int)? {
        guard ids.count >= 2 else { return nil }
        var counts: [Int: Int] = [:]
        for (left, right) in zip(ids, ids.dropFirst()) {
            counts[pairKey(left, right), default: 0] += 1
        }

        // The comparison is a total order (count, then pair), so the dictionary's order does not matter.
        var best: (key: Int, count: Int)?
        for (key, count) in counts {
            if let current = best, count < current.count || (count == current.count && key > current.key) {
                continue
            }
            best = (key, count)
        }
        let key = best!.key
        return (key >> 32, key & 0xFFFF_FFFF, best!.count)
    }

    /// Packs a pair into one integer whose order is the pair's order, left id first.
    private static func pairKey(_ left: Int, _ right: Int) -> Int {
        precondition(left >= 0 && left <= Int(UInt32.max) && right >= 0 && right <= Int(UInt32.max),
                     "BPETokenizer: ids (\(left), \(right)) do not fit in 32 bits")
        return left << 32 | right
    }

    /// Returns `ids` with each occurrence of the pair (`left`, `right`), taken from left to right,
    /// replaced by `id`.
    static func replacing(_ left: Int, _ right: Int, with id: Int, in ids: [Int]) -> [Int] {
        var output: [Int] = []
        output.reserveCapacity(ids.count)
        var index = 0
        while index < ids.count {
            if index + 1 < ids.count && ids[index] == left && ids[index + 1] == right {
                output.append(id)
                index += 2
            } else {
                output.append(ids[index])
                index += 1
            }
        }
        return output
    }

    // MARK: Saving and loading

    private enum CodingKeys: String, CodingKey { case kind, merges }

    /// Reads a tokenizer saved by `encode(to:)`: the kind "bpe" and the merges as [left, right] pairs.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try container.decode(String.self, forKey: .kind)
        guard kind == "bpe" else {
            throw DecodingError.dataCorruptedError(forKey: .kind, in: container, debugDescription: "expected a BPE tokenizer (\"bpe\"), found \"\(kind)\"")
        }
        let pairs = try container.decode([[Int]].self, forKey: .merges)
        var mergePairs: [(left: Int, right: Int)] = []
        for (index, pair) in pairs.enumerated() {
            let id = Self.byteTokenCount + index
            guard pair.count == 2, pair.allSatisfy({ $0 >= 0 && $0 < id }) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .merges, in: container,
                    debugDescription: "merge \(index) is \(pair), but each merge must be two ids below its own id \(id)")
            }
            mergePairs.append((pair[0], pair[1]))
        }
        self.init(mergePairs: mergePairs)
    }

    /// Writes the kind "bpe" and the merges as [left, right] pairs, in training order.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("bpe", forKey: .kind)
        try container.encode(merges.map { [$0.left, $0.right] }, forKey: .merges)
    }

    /// Returns the merges as JSON (sorted keys, so equal tokenizers give equal bytes).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }

    /// Reads merges saved by `jsonData()`.
    public init(jsonData data: Data) throws {
        self = try JSONDecoder().decode(BPETokenizer.self, from: data)
    }

    public static func == (a: BPETokenizer, b: BPETokenizer) -> Bool {
        a.merges == b.merges
    }
}

/// The outcome of `BPETokenizer.train(on:vocabSize:)`: the tokenizer, and whether it reached the
/// requested vocabulary size or stopped early because no pair of adjacent tokens occurred twice.
public struct BPETraining {
    /// The trained tokenizer.
    public let tokenizer: BPETokenizer
    /// The vocabulary size training aimed for.
    public let requestedVocabSize: Int
    /// How often each merged pair occurred when it was merged, one count per merge.
    public let mergeCounts: [Int]
    /// The number of tokens the training text became after the last merge.
    public let trainingTokenCount: Int

    /// Whether training ended before reaching `requestedVocabSize`.
    public var stoppedEarly: Bool { tokenizer.vocabSize < requestedVocabSize }

    /// One sentence on how training ended, as in
    /// "stopped after 3 merges (vocabulary size 259 of the requested 300): no pair of adjacent tokens occurs twice".
    public var summary: String {
        let mergeCount = tokenizer.merges.count
        let merges = "\(mergeCount) merge\(mergeCount == 1 ? "" : "s")"
        if stoppedEarly {
            return "stopped after \(merges) (vocabulary size \(tokenizer.vocabSize) of the requested \(requestedVocabSize)):"
                + " no pair of adjacent tokens occurs twice in the training text"
        }
        return "learned \(merges): vocabulary size \(tokenizer.vocabSize)"
    }
}

/// Returns a printable label for UTF-8 bytes: each whole character as `printableLabel` shows it,
/// and each byte that does not form a whole character as `\xHH`.
public func printableLabel(utf8 bytes: [UInt8]) -> String {
    var label = ""
    var parser = Unicode.UTF8.ForwardParser()
    var iterator = bytes.makeIterator()
    var offset = 0
    parsing: while true {
        switch parser.parseScalar(from: &iterator) {
        case .valid(let encoded):
            label += printableLabel(Unicode.UTF8.decode(encoded))
            offset += encoded.count
        case .error(let length):
            for byte in bytes[offset..<(offset + length)] {
                label += String(format: "\\x%02X", byte)
            }
            offset += length
        case .emptyInput:
            break parsing
        }
    }
    return label
}

/// Returns bytes as two-digit lowercase hexadecimal numbers separated by spaces, as in "c3 a9".
public func hexBytes(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined(separator: " ")
}
