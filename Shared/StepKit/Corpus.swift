import Foundation

/// The corpus a program uses when neither `--text` nor `--text-file` is given.
public enum DefaultCorpus: Equatable {
    /// The short English text built into StepKit, about 4 KB: fast, and enough for the early steps.
    case embedded
    /// `data/tinyshakespeare.txt`, about 1 MB, which `make data` downloads.
    case tinyShakespeare
}

/// The text a step trains on, and where it came from.
///
/// Every loader replaces Windows line endings "\r\n" with "\n" and drops a leading byte order
/// mark, because Swift counts "\r\n" as one `Character` and a character-level vocabulary would
/// otherwise differ between copies of the same file.
public struct Corpus: Equatable {
    /// The origin of a corpus.
    public enum Source: Equatable {
        /// The text built into StepKit.
        case embedded
        /// The literal text of `--text`.
        case literal
        /// A UTF-8 file, with its path as given.
        case file(path: String)
    }

    /// The whole text, never empty.
    public let text: String

    /// The origin of the text.
    public let source: Source

    /// Creates a corpus from text already loaded; `text` must not be empty.
    public init(text: String, source: Source) {
        precondition(!text.isEmpty, "Corpus text must not be empty; loaders throw before this for user input")
        self.text = text
        self.source = source
    }

    /// A one-line description for the program's output, as in
    /// `data/tinyshakespeare.txt (1,115,394 characters)`.
    public var summary: String {
        let size = "(" + Format.grouped(text.count) + (text.count == 1 ? " character)" : " characters)")
        switch source {
        case .embedded: return "the embedded default corpus " + size
        case .literal: return "the text of --text " + size
        case .file(let path): return path + " " + size
        }
    }

    // MARK: Loading

    /// Loads the corpus chosen by the standard flags: `--text`, else `--text-file`, else the default.
    /// - Throws: `StepError` when both flags are given, or when the chosen text is empty, missing
    ///   or not UTF-8.
    public static func load(text: String?, textFile: String?, default defaultCorpus: DefaultCorpus) throws -> Corpus {
        switch (text, textFile) {
        case (.some, .some):
            throw StepError(
                "--text and --text-file were both given, but a program reads one corpus."
                    + " Pass --text for literal text or --text-file for a file, not both.")
        case (let text?, nil):
            return try literal(text)
        case (nil, let path?):
            return try file(atPath: path)
        case (nil, nil):
            switch defaultCorpus {
            case .embedded: return try embedded()
            case .tinyShakespeare: return try tinyShakespeare()
            }
        }
    }

    /// Loads the English text built into StepKit from its resource bundle.
    /// - Throws: `StepError` when the bundle lacks the file, which means a broken build.
    /// NOTE: When the whole bundle `TransformerSteps_StepKit.resources` is missing, for example
    /// after copying an executable without it, SwiftPM's generated `Bundle.module` stops the
    /// program with a fatal error before this function can throw.
    public static func embedded() throws -> Corpus {
        guard let url = Bundle.module.url(forResource: "default-corpus", withExtension: "txt") else {
            throw StepError(
                "default-corpus.txt is missing from the StepKit resource bundle."
                    + " Rebuild with `swift build`, or pass a corpus with --text-file PATH.")
        }
        return Corpus(text: try readText(atPath: url.path), source: .embedded)
    }

    /// Makes a corpus of literal text, as given to `--text`.
    /// - Throws: `StepError` when `text` is empty.
    public static func literal(_ text: String) throws -> Corpus {
        let normalized = normalizeLineEndings(text)
        guard !normalized.isEmpty else {
            throw StepError(
                "--text is empty, but a corpus needs at least one character."
                    + " Pass some text, as in --text \"to be or not to be\".")
        }
        return Corpus(text: normalized, source: .literal)
    }

    /// Loads a UTF-8 text file, as given to `--text-file`.
    /// - Throws: `StepError` when the file is missing, is a folder, cannot be read, is not valid
    ///   UTF-8 or is empty.
    public static func file(atPath path: String) throws -> Corpus {
        Corpus(text: try readText(atPath: path), source: .file(path: path))
    }

    /// Loads `data/tinyshakespeare.txt`, found as `locateTinyShakespeare(searchingFrom:)` describes.
    public static func tinyShakespeare(
        searchingFrom directory: String = FileManager.default.currentDirectoryPath
    ) throws -> Corpus {
        try file(atPath: locateTinyShakespeare(searchingFrom: directory))
    }

    /// Returns the path of `data/tinyshakespeare.txt` in `directory` or, failing that, in the
    /// package root: the nearest folder at or above `directory` that contains `Package.swift`.
    /// - Throws: `StepError` naming both places and `make data` when the file is in neither.
    public static func locateTinyShakespeare(
        searchingFrom directory: String = FileManager.default.currentDirectoryPath
    ) throws -> String {
        let relativePath = "data/tinyshakespeare.txt"
        let start = URL(fileURLWithPath: directory).standardizedFileURL
        let inDirectory = start.appendingPathComponent(relativePath).path
        if FileManager.default.fileExists(atPath: inDirectory) {
            return inDirectory
        }

        let root = packageRoot(above: start)
        if let root {
            let inRoot = root.appendingPathComponent(relativePath).path
            if FileManager.default.fileExists(atPath: inRoot) {
                return inRoot
            }
        }

        var message = "\(relativePath) not found in \(start.path)"
        if let root, root.path != start.path {
            message += " or in the package root \(root.path)"
        } else if root == nil {
            message += ", and no folder above it contains Package.swift"
        }
        message += ". Run `make data` in the package root to download it, or pass another text with --text-file PATH."
        throw StepError(message)
    }

    // MARK: Reading files

    /// Reads a whole file as UTF-8 text with normalized line endings.
    static func readText(atPath path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw StepError("text file \(path) not found\(relativePathNote(path)). Check the path and pass it again with --text-file PATH.")
        }
        guard !isDirectory.boolValue else {
            throw StepError("\(path) is a folder, not a text file. Pass the path of a UTF-8 text file inside it, as in --text-file \(path)/input.txt.")
        }

        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw StepError("could not read text file \(path): \(error.localizedDescription). Check that the file is readable, as `ls -l \(path)` shows.")
        }

        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            bytes.removeFirst(3)
        }
        if let offset = firstInvalidUTF8Offset(in: bytes) {
            let line = bytes[..<offset].reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
            throw StepError(
                "text file \(path) is not valid UTF-8: byte \(offset) (line \(line)) starts an invalid sequence."
                    + " Convert the file to UTF-8, for example with `iconv -f LATIN1 -t UTF-8 \(path) > converted.txt`.")
        }

        let text = normalizeLineEndings(String(decoding: bytes, as: UTF8.self))
        guard !text.isEmpty else {
            throw StepError("text file \(path) is empty, but a corpus needs at least one character. Pass a file that contains text.")
        }
        return text
    }

    /// Returns the offset of the first byte that does not start a valid UTF-8 sequence, or nil
    /// when all of `bytes` is valid UTF-8.
    ///
    /// The rules are those of RFC 3629: no overlong forms, no surrogates (U+D800...U+DFFF) and
    /// nothing above U+10FFFF.
    static func firstInvalidUTF8Offset(in bytes: [UInt8]) -> Int? {
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]

            // Each lead byte fixes the sequence length and the allowed range of the second byte.
            let length: Int
            var secondRange: ClosedRange<UInt8> = 0x80...0xBF
            switch lead {
            case 0x00...0x7F: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; secondRange = 0xA0...0xBF
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; secondRange = 0x80...0x9F
            case 0xF0: length = 4; secondRange = 0x90...0xBF
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; secondRange = 0x80...0x8F
            default: return index
            }

            guard index + length <= bytes.count else { return index }
            if length > 1 {
                guard secondRange.contains(bytes[index + 1]) else { return index }
                for offset in 2..<length where !(0x80...0xBF).contains(bytes[index + offset]) {
                    return index
                }
            }
            index += length
        }
        return nil
    }

    private static func normalizeLineEndings(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n")
    }

    private static func relativePathNote(_ path: String) -> String {
        guard !path.hasPrefix("/") else { return "" }
        return " (relative paths start at the current folder, \(FileManager.default.currentDirectoryPath))"
    }

    /// Returns the nearest folder at or above `start` that contains `Package.swift`.
    private static func packageRoot(above start: URL) -> URL? {
        var folder = start
        while true {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) {
                return folder
            }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { return nil }
            folder = parent
        }
    }
}
