import Foundation
import Testing
@testable import StepKit

/// Writes `bytes` to a new file in `folder` and returns its path.
private func writeFile(_ bytes: [UInt8], named name: String, in folder: URL) throws -> String {
    let url = folder.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url.path
}

@Suite("Corpus")
struct CorpusTests {
    @Test("embedded corpus is 3-5 KB of text with one emoji")
    func embeddedCorpus() throws {
        let corpus = try Corpus.embedded()
        #expect(corpus.source == .embedded)
        let byteCount = corpus.text.utf8.count
        #expect(byteCount >= 3000)
        #expect(byteCount <= 5000)
        for word in ["café", "naïve", "résumé", "façade", "déjà vu", "\""] {
            #expect(corpus.text.contains(word), "embedded corpus lacks \(word)")
        }
        let emoji = corpus.text.filter { $0.unicodeScalars.first!.properties.isEmojiPresentation }
        #expect(emoji == "🌊")
        #expect(corpus.summary.hasPrefix("the embedded default corpus ("))
    }

    @Test("literal text")
    func literalText() throws {
        #expect(try Corpus.literal("a\r\nb").text == "a\nb")
        #expect(try Corpus.literal("a").summary == "the text of --text (1 character)")
        let error = try #require(throws: StepError.self) { try Corpus.literal("") }
        #expect(error.message.contains("--text is empty"))
    }

    @Test("file with BOM and CRLF")
    func fileNormalization() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try writeFile([0xEF, 0xBB, 0xBF] + Array("hé\r\nho".utf8), named: "in.txt", in: folder)
        let corpus = try Corpus.file(atPath: path)
        #expect(corpus.text == "hé\nho")
        #expect(corpus.source == .file(path: path))
        #expect(corpus.summary == path + " (5 characters)")
    }

    @Test("missing file")
    func missingFile() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("nope.txt").path
        let error = try #require(throws: StepError.self) { try Corpus.file(atPath: path) }
        #expect(error.message == "text file \(path) not found. Check the path and pass it again with --text-file PATH.")

        let relative = try #require(throws: StepError.self) { try Corpus.file(atPath: "no/such/file.txt") }
        #expect(relative.message.contains("relative paths start at the current folder"))
    }

    @Test("folder instead of file")
    func folderPath() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let error = try #require(throws: StepError.self) { try Corpus.file(atPath: folder.path) }
        #expect(error.message.hasPrefix("\(folder.path) is a folder, not a text file."))
    }

    @Test("invalid UTF-8 names byte and line")
    func invalidUTF8() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try writeFile(Array("ab\ncd".utf8) + [0xFF, 0x41], named: "latin.txt", in: folder)
        let error = try #require(throws: StepError.self) { try Corpus.file(atPath: path) }
        #expect(error.message.contains("is not valid UTF-8: byte 5 (line 2)"))
        #expect(error.message.contains("iconv"))
    }

    @Test("empty file")
    func emptyFile() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try writeFile([], named: "empty.txt", in: folder)
        let error = try #require(throws: StepError.self) { try Corpus.file(atPath: path) }
        #expect(error.message.contains("is empty"))
    }

    @Test("UTF-8 validation cases")
    func utf8Validation() {
        let cases: [(bytes: [UInt8], offset: Int?)] = [
            ([0x61, 0xC3, 0xA9], nil),              // "aé"
            ([0xF0, 0x9F, 0x8C, 0x8A], nil),        // 🌊
            ([0xE2, 0x82, 0xAC], nil),              // €
            ([0xC0, 0x80], 0),                      // overlong NUL
            ([0xE0, 0x80, 0x80], 0),                // overlong three-byte form
            ([0xED, 0xA0, 0x80], 0),                // surrogate U+D800
            ([0xF4, 0x90, 0x80, 0x80], 0),          // above U+10FFFF
            ([0x61, 0xE2, 0x82], 1),                // truncated at the end
            ([0x61, 0x62, 0x80], 2),                // stray continuation byte
            ([0xC3, 0x41], 0),                      // continuation byte missing
        ]
        for (bytes, offset) in cases {
            #expect(Corpus.firstInvalidUTF8Offset(in: bytes) == offset, "bytes \(bytes)")
        }
    }

    @Test("both corpus flags are rejected")
    func bothFlags() throws {
        let error = try #require(throws: StepError.self) {
            try Corpus.load(text: "a", textFile: "b.txt", default: .embedded)
        }
        #expect(error.message.hasPrefix("--text and --text-file were both given"))
        #expect(try Corpus.load(text: nil, textFile: nil, default: .embedded).source == .embedded)
    }

    @Test("tiny Shakespeare found in the package root")
    func locateInPackageRoot() throws {
        let root = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let deeper = root.appendingPathComponent("Steps/Step00")
        try FileManager.default.createDirectory(at: deeper, withIntermediateDirectories: true)
        try Data("// manifest".utf8).write(to: root.appendingPathComponent("Package.swift"))

        let missing = try #require(throws: StepError.self) { try Corpus.locateTinyShakespeare(searchingFrom: deeper.path) }
        #expect(missing.message.contains("or in the package root \(root.standardizedFileURL.path)"))
        #expect(missing.message.contains("Run `make data`"))

        try FileManager.default.createDirectory(at: root.appendingPathComponent("data"), withIntermediateDirectories: true)
        try Data("First Citizen:\n".utf8).write(to: root.appendingPathComponent("data/tinyshakespeare.txt"))
        let found = try Corpus.locateTinyShakespeare(searchingFrom: deeper.path)
        #expect(found == root.standardizedFileURL.appendingPathComponent("data/tinyshakespeare.txt").path)
        #expect(try Corpus.tinyShakespeare(searchingFrom: deeper.path).text == "First Citizen:\n")
    }

    @Test("tiny Shakespeare outside any package")
    func locateWithoutPackage() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let error = try #require(throws: StepError.self) { try Corpus.locateTinyShakespeare(searchingFrom: folder.path) }
        #expect(error.message.contains("no folder above it contains Package.swift"))
    }
}
