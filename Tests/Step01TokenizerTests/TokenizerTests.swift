import Foundation
import Testing
import TokenizerStep

/// The strings whose Characters, scalars and bytes disagree, with counts worked out by hand from
/// their code points. é is U+00E9 (2 bytes), and e + U+0301 is 1 + 2 bytes. 👍🏽 is U+1F44D U+1F3FD
/// (4 + 4 bytes), and 🇫🇷 is two regional indicators (4 + 4 bytes). 👨‍👩‍👧 is man, ZWJ, woman,
/// ZWJ, girl (4 + 3 + 4 + 3 + 4 bytes). "naïve café" has ten scalars, two of them 2 bytes long.
private let trickyStrings: [(text: String, characters: Int, scalars: Int, bytes: Int)] = [
    ("\u{E9}", 1, 1, 2),
    ("e\u{301}", 1, 2, 3),
    ("\u{1F44D}\u{1F3FD}", 1, 2, 8),
    ("\u{1F1EB}\u{1F1F7}", 1, 2, 8),
    ("\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}", 1, 5, 18),
    ("na\u{EF}ve caf\u{E9}", 10, 10, 12),
]

@Suite("Unicode units")
struct UnicodeUnitTests {
    @Test("equal Strings can have different bytes and ids")
    func canonicalEquivalence() throws {
        let precomposed = "\u{E9}"
        let decomposed = "e\u{301}"
        // Swift compares Strings by canonical equivalence, so these are "equal"...
        #expect(precomposed == decomposed)
        // ...but their bytes and their tokens are not.
        #expect(Array(precomposed.utf8) == [0xC3, 0xA9])
        #expect(Array(decomposed.utf8) == [0x65, 0xCC, 0x81])

        let tokenizer = try CharTokenizer(training: precomposed + decomposed)
        // Sorted scalars: e (U+0065) id 1, é (U+00E9) id 2, U+0301 id 3.
        #expect(tokenizer.encode(precomposed) == [2])
        #expect(tokenizer.encode(decomposed) == [1, 3])
        let bpe = BPETokenizer(mergePairs: [])
        #expect(bpe.encode(precomposed) != bpe.encode(decomposed))
    }

    @Test("token counts of tricky strings")
    func trickyCounts() throws {
        let everything = trickyStrings.map(\.text).joined()
        let characterTokenizer = try CharTokenizer(training: everything)
        let bytesOnly = BPETokenizer(mergePairs: [])

        for sample in trickyStrings {
            #expect(sample.text.count == sample.characters, "Characters of \(sample.text)")
            #expect(sample.text.unicodeScalars.count == sample.scalars, "scalars of \(sample.text)")
            #expect(sample.text.utf8.count == sample.bytes, "bytes of \(sample.text)")
            // The character tokenizer makes one token per scalar, never one per Character.
            #expect(characterTokenizer.encode(sample.text).count == sample.scalars, "char tokens of \(sample.text)")
            #expect(!characterTokenizer.encode(sample.text).contains(CharTokenizer.unknownID))
            // Without merges, byte-level BPE makes one token per byte.
            #expect(bytesOnly.encode(sample.text).count == sample.bytes, "BPE tokens of \(sample.text)")
        }
    }

    @Test("naïve café encodes to hand-worked ids")
    func handWorkedCharacterIDs() throws {
        let tokenizer = try CharTokenizer(training: "na\u{EF}ve caf\u{E9}")
        // Sorted: space 1, a 2, c 3, e 4, f 5, n 6, v 7, é 8, ï 9.
        #expect(tokenizer.vocabSize == 10)
        #expect(tokenizer.encode("na\u{EF}ve caf\u{E9}") == [6, 2, 9, 7, 4, 1, 3, 2, 5, 8])
        // The decomposed spelling needs U+0301, which this text never contained.
        #expect(tokenizer.encode("cafe\u{301}") == [3, 2, 5, 4, 0])
    }
}

@Suite("Character tokenizer")
struct CharacterTokenizerTests {
    @Test("unseen scalars become [UNK]")
    func unknownScalars() throws {
        let tokenizer = try CharTokenizer(training: "abc")
        #expect(tokenizer.encode("abz\u{1F44D}") == [1, 2, 0, 0])
        #expect(tokenizer.unknownScalars(in: "zaz\u{1F44D}") == ["z", "\u{1F44D}"])
        #expect(try tokenizer.decode(tokenizer.encode("abz")) == "ab\u{FFFD}")
    }

    @Test("round trip keeps the UTF-8 bytes")
    func roundTrip() throws {
        let text = "naïve café, cafe\u{301} 👍🏽 🇫🇷 👨‍👩‍👧\n"
        let tokenizer = try CharTokenizer(training: text)
        #expect(Array(try tokenizer.decode(tokenizer.encode(text)).utf8) == Array(text.utf8))
    }

    @Test("decoding an id out of range throws")
    func idOutOfRange() throws {
        let tokenizer = try CharTokenizer(training: "abc")
        #expect(throws: TokenizerError.idOutOfRange(id: 4, vocabSize: 4)) { try tokenizer.decode([1, 4]) }
        #expect(throws: TokenizerError.idOutOfRange(id: -1, vocabSize: 4)) { try tokenizer.decode([-1]) }
        let message = TokenizerError.idOutOfRange(id: 4, vocabSize: 4).description
        #expect(message.contains("token id 4"))
        #expect(message.contains("0..<4"))
        #expect(message.hasSuffix("."))
    }

    @Test("empty training text is rejected")
    func emptyText() {
        #expect(throws: TokenizerError.emptyText) { try CharTokenizer(training: "") }
    }

    @Test("same scalars give byte-identical JSON")
    func deterministicJSON() throws {
        let first = try CharTokenizer(training: "the cat").jsonData()
        let second = try CharTokenizer(training: "the cat").jsonData()
        let reordered = try CharTokenizer(training: "tac eht").jsonData()
        #expect(first == second)
        #expect(first == reordered)
        #expect(String(decoding: try CharTokenizer(training: "ba").jsonData(), as: UTF8.self)
            == #"{"kind":"char","scalars":[97,98],"unknownToken":"[UNK]"}"#)
        #expect(try CharTokenizer(jsonData: first) == CharTokenizer(training: "the cat"))
    }
}

@Suite("Byte-level BPE")
struct BPETokenizerTests {
    @Test("hand-worked merges of aaabdaaabac")
    func handWorkedMerges() throws {
        // aaabdaaabac: (a, a) occurs 4 times, the most, so it merges first into 256.
        // Z a b d Z a b a c: (Z, a) and (a, b) tie at 2, and (97, 98) is the smaller pair.
        // Z Y d Z Y a c: (Z, Y) occurs twice and becomes 258. In X d X a c no pair repeats.
        let training = try BPETokenizer.train(on: "aaabdaaabac", vocabSize: 300)
        let merges = training.tokenizer.merges
        #expect(merges.map { [$0.left, $0.right, $0.id] } == [[97, 97, 256], [97, 98, 257], [256, 257, 258]])
        #expect(training.mergeCounts == [4, 2, 2])
        #expect(training.tokenizer.encode("aaabdaaabac") == [258, 100, 258, 97, 99])
        #expect(training.trainingTokenCount == 5)
        #expect(try training.tokenizer.bytes(for: 258) == Array("aaab".utf8))
    }

    @Test("training stops when no pair repeats")
    func stopsEarly() throws {
        let training = try BPETokenizer.train(on: "aaabdaaabac", vocabSize: 300)
        #expect(training.stoppedEarly)
        #expect(training.tokenizer.vocabSize == 259)
        #expect(training.summary.contains("stopped after 3 merges"))
        #expect(training.summary.contains("no pair of adjacent tokens occurs twice"))

        let exact = try BPETokenizer.train(on: "aaabdaaabac", vocabSize: 258)
        #expect(!exact.stoppedEarly)
        #expect(exact.tokenizer.merges.count == 2)

        // Text with no repeated pair learns nothing.
        let none = try BPETokenizer.train(on: "abcdef", vocabSize: 300)
        #expect(none.tokenizer.merges.isEmpty)
        #expect(none.summary.contains("stopped after 0 merges"))
    }

    @Test("overlapping pairs count, merges go left to right")
    func overlappingPairs() throws {
        // "aaa" contains (a, a) at offsets 0 and 1, so it counts twice, but only one merge fits.
        let training = try BPETokenizer.train(on: "aaa", vocabSize: 300)
        #expect(training.mergeCounts == [2])
        #expect(training.tokenizer.encode("aaa") == [256, 97])
    }

    @Test("ties go to the smallest pair")
    func tieBreak() throws {
        // (c, d) and (a, b) both occur twice; (97, 98) wins although (c, d) comes first in the text.
        let training = try BPETokenizer.train(on: "cdcdabab", vocabSize: 257)
        #expect(training.tokenizer.merges.map { [$0.left, $0.right] } == [[97, 98]])
    }

    @Test("encode applies merges in training order")
    func mergeOrder() {
        // With (a, b) learned before (b, c), "abc" becomes [ab, c], never [a, bc].
        let tokenizer = BPETokenizer(mergePairs: [(97, 98), (98, 99)])
        #expect(tokenizer.encode("abc") == [256, 99])
        #expect(tokenizer.encode("bc") == [257])
    }

    @Test("frequent multi-byte character becomes one token")
    func multiByteMerge() throws {
        let training = try BPETokenizer.train(on: "\u{E9}\u{E9}\u{E9}\u{E9}", vocabSize: 257)
        #expect(training.tokenizer.merges.map { [$0.left, $0.right] } == [[0xC3, 0xA9]])
        #expect(training.tokenizer.encode("\u{E9}") == [256])
        // A character the training text never contained still encodes, as its bytes.
        #expect(training.tokenizer.encode("\u{EA}") == [0xC3, 0xAA])
    }

    @Test("round trip is exact on bytes")
    func roundTrip() throws {
        let corpus = "the cat sat on the mat; the cat ate the rat. naïve café"
        let tokenizer = try BPETokenizer.train(on: corpus, vocabSize: 290).tokenizer
        #expect(tokenizer.merges.count >= 5)
        let texts = [corpus, "e\u{301} 👍🏽 🇫🇷 👨‍👩‍👧 日本 Ωmega", "", "\n\t\u{0}"]
        for text in texts {
            let ids = tokenizer.encode(text)
            #expect(try tokenizer.decodeBytes(ids) == Array(text.utf8), "bytes of \(text)")
            #expect(Array(try tokenizer.decode(ids).utf8) == Array(text.utf8), "text of \(text)")
        }
        // Merges make the training text shorter than its bytes.
        #expect(tokenizer.encode(corpus).count < corpus.utf8.count)
    }

    @Test("invalid UTF-8 decodes to U+FFFD")
    func invalidUTF8() throws {
        let tokenizer = BPETokenizer(mergePairs: [])
        #expect(try tokenizer.decode([0xC3]) == "\u{FFFD}")
        #expect(try tokenizer.decode([0xFF, 0x41]) == "\u{FFFD}A")
        // The first two bytes of 👍 (f0 9f 91 8d) are one incomplete sequence: one U+FFFD.
        #expect(try tokenizer.decode([0xF0, 0x9F]) == "\u{FFFD}")
        #expect(try tokenizer.decode([0x61, 0xF0, 0x9F, 0x62]) == "a\u{FFFD}b")
    }

    @Test("decoding an id out of range throws")
    func idOutOfRange() throws {
        let tokenizer = BPETokenizer(mergePairs: [(97, 98)])
        #expect(throws: TokenizerError.idOutOfRange(id: 257, vocabSize: 257)) { try tokenizer.decode([97, 257]) }
        #expect(throws: TokenizerError.idOutOfRange(id: -3, vocabSize: 257)) { try tokenizer.decodeBytes([-3]) }
    }

    @Test("bad training input is rejected")
    func badTrainingInput() {
        #expect(throws: TokenizerError.emptyText) { try BPETokenizer.train(on: "", vocabSize: 300) }
        #expect(throws: TokenizerError.vocabSizeTooSmall(requested: 255, minimum: 256)) {
            try BPETokenizer.train(on: "abc", vocabSize: 255)
        }
    }

    @Test("same text gives byte-identical JSON")
    func deterministicJSON() throws {
        let text = "the cat sat on the mat; the cat ate the rat"
        let first = try BPETokenizer.train(on: text, vocabSize: 280).tokenizer.jsonData()
        let second = try BPETokenizer.train(on: text, vocabSize: 280).tokenizer.jsonData()
        #expect(first == second)

        let handWorked = try BPETokenizer.train(on: "aaabdaaabac", vocabSize: 300).tokenizer
        #expect(String(decoding: try handWorked.jsonData(), as: UTF8.self)
            == #"{"kind":"bpe","merges":[[97,97],[97,98],[256,257]]}"#)
        #expect(try BPETokenizer(jsonData: handWorked.jsonData()) == handWorked)
    }

    @Test("JSON with an impossible merge is rejected")
    func invalidJSON() {
        // Merge 0 becomes id 256, so it can only join byte tokens.
        let data = Data(#"{"kind":"bpe","merges":[[256,97]]}"#.utf8)
        #expect(throws: DecodingError.self) { try BPETokenizer(jsonData: data) }
        let wrongKind = Data(#"{"kind":"char","merges":[]}"#.utf8)
        #expect(throws: DecodingError.self) { try BPETokenizer(jsonData: wrongKind) }
    }

    @Test("labels escape partial characters")
    func labels() {
        #expect(printableLabel(utf8: [0x65, 0x20, 0xC3]) == "e␣\\xC3")
        #expect(printableLabel(utf8: [0xC3, 0xA9]) == "\u{E9}")
        #expect(hexBytes([0xC3, 0xA9, 0x0A]) == "c3 a9 0a")
    }
}

@Suite("Merge comparison")
struct MergeComparisonTests {
    @Test("merges are compared by bytes, not ids")
    func sameBytesOtherIDs() {
        // Old: aa = 256, bb = 257, aa + b. New: bb = 256, aa = 257, aa + b. The last merge joins
        // id 256 in the old tokenizer and id 257 in the new one, yet both join the bytes "aa" and "b".
        let old = BPETokenizer(mergePairs: [(97, 97), (98, 98), (256, 98)])
        let new = BPETokenizer(mergePairs: [(98, 98), (97, 97), (257, 98)])
        #expect(old.merges[2].left != new.merges[2].left)
        let comparison = MergeComparison(old: old, new: new)
        #expect(comparison.added.isEmpty)
        #expect(comparison.dropped.isEmpty)
        #expect(comparison.sharedCount == 3)
        // aa and bb swapped places, and aa + b kept its place.
        #expect(comparison.movedCount == 2)
        #expect(!comparison.isUnchanged)
    }

    @Test("added and dropped merges in training order")
    func addedAndDropped() throws {
        // Training on aaabdaaabac learns a + a, a + b, aa + ab (worked out in the BPE tests).
        let old = try BPETokenizer.train(on: "aaabdaaabac", vocabSize: 300).tokenizer
        let new = BPETokenizer(mergePairs: [(97, 98), (98, 99), (97, 97)])
        let comparison = MergeComparison(old: old, new: new)
        #expect(comparison.added == [ByteMerge(left: [98], right: [99])])
        #expect(comparison.dropped == [ByteMerge(left: [97, 97], right: [97, 98])])
        #expect(comparison.sharedCount == 2)
        #expect(comparison.movedCount == 2)
        #expect(comparison.dropped[0].label == "aa + ab")
    }

    @Test("identical training is unchanged")
    func identical() throws {
        let tokenizer = try BPETokenizer.train(on: "the cat sat on the mat", vocabSize: 270).tokenizer
        let comparison = MergeComparison(old: tokenizer, new: tokenizer)
        #expect(comparison.isUnchanged)
        #expect(comparison.sharedCount == tokenizer.merges.count)
        #expect(comparison.sharedCount > 0)
    }
}
