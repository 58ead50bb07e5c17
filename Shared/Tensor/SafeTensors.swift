import Foundation
#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#elseif canImport(Musl)
import Musl
private let systemWrite = Musl.write
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
#endif

/// One named float32 array as stored in a checkpoint, with its values in row-major order.
public struct NamedArray: Equatable, Sendable {
    /// The key of the array in the checkpoint, such as `"blocks.0.attention.query.weight"`.
    public var name: String
    /// The size of each dimension, outermost first. The empty shape `[]` is a scalar with one value.
    public var shape: [Int]
    /// The values in row-major order. Their count is the product of `shape`.
    public var values: [Float]

    /// Creates a named array. `SafeTensors.write` checks that `values.count` matches `shape`.
    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// An invalid checkpoint, a checkpoint that does not fit a model, or a failed checkpoint write,
/// with what is wrong and how to fix it.
public struct CheckpointError: Error, CustomStringConvertible, Equatable {
    /// The path of the checkpoint file that was being read or written, or nil when the error is
    /// about arrays already in memory.
    public let path: String?
    /// The problem, naming the tensor, field or byte range, followed by the fix.
    public let reason: String

    /// Creates an error about the checkpoint file at `path`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// Creates an error about arrays that are not tied to a file, such as a checkpoint that does not fit a model.
    public init(_ reason: String) {
        self.path = nil
        self.reason = reason
    }

    /// The path, if any, and the reason in one line, ready to print.
    public var description: String {
        guard let path else { return reason }
        return "Checkpoint \(path): \(reason)"
    }
}

/// Reads and writes checkpoints in the safetensors format.
///
/// A file is an 8-byte little-endian unsigned header length `N`, then `N` bytes of UTF-8 JSON,
/// then the data section. The JSON maps each tensor name to
/// `{"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}`, with byte offsets relative to
/// the start of the data section, and may map `"__metadata__"` to an object of string values.
/// The data section contains the tensors back to back, each as little-endian float32 values in
/// row-major order. Only the `F32` dtype is supported.
public enum SafeTensors {
    /// The largest header length `read` accepts. The Python `safetensors` package (version 0.8.0)
    /// rejects a file whose header length is 100,000,001 as "header too large".
    public static let maxHeaderLength = 100_000_000

    /// The JSON key whose value is the string metadata instead of a tensor.
    static let metadataKey = "__metadata__"

    /// Every dtype name of the safetensors format, used to tell an unsupported dtype from a misspelt one.
    static let knownDTypes: Set<String> = [
        "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16",
        "I32", "U32", "F32", "F64", "I64", "U64",
    ]
}

// MARK: - Writing

extension SafeTensors {
    /// Writes the arrays and string metadata to `url` as one safetensors file.
    ///
    /// The arrays are stored in order of their names' UTF-8 bytes, and the metadata keys in the
    /// same order, so the same arrays and metadata always give the same bytes. The header is
    /// padded with spaces so that the data section starts at a multiple of 8 bytes, as the Python
    /// `safetensors` package does. The bytes go to a temporary file in the folder of `url`, which
    /// then replaces `url` by a rename, so a failed write leaves an existing file untouched.
    ///
    /// - Throws: `CheckpointError` if a name is empty, repeated or `"__metadata__"`, if a shape has
    ///   a negative dimension or does not match its value count, or if the file cannot be written.
    public static func write(_ arrays: [NamedArray], metadata: [String: String] = [:], to url: URL) throws {
        precondition(url.isFileURL, "SafeTensors.write needs a file URL, got \(url)")
        let path = url.path
        try validateForWriting(arrays, path: path)

        let sorted = arrays.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        let header = encodeHeader(sorted, metadata: metadata)
        let lengthField = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) }

        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            let cause = String(cString: strerror(errno))
            throw CheckpointError(path: path, reason: "failed to create a temporary file in \(folder.path) (\(cause)); check that the folder exists and is writable")
        }

        var closed = false
        do {
            try writeAll(lengthField, to: descriptor, path: path)
            try writeAll(header, to: descriptor, path: path)
            for array in sorted {
                try writeFloats(array.values, to: descriptor, path: path)
            }
            guard fsync(descriptor) == 0 else {
                throw CheckpointError(path: path, reason: "failed to flush the temporary file to disk (\(String(cString: strerror(errno)))); check the disk and try again")
            }
            closed = true
            guard close(descriptor) == 0 else {
                throw CheckpointError(path: path, reason: "failed to close the temporary file (\(String(cString: strerror(errno)))); check the disk and try again")
            }
            guard rename(temporary.path, path) == 0 else {
                throw CheckpointError(path: path, reason: "failed to rename the temporary file to the checkpoint path (\(String(cString: strerror(errno)))); check that the path is not a folder and that the folder is writable")
            }
        } catch {
            if !closed { close(descriptor) }
            unlink(temporary.path)
            throw error
        }
    }

    /// Throws unless every array has a unique, non-empty name and values that fill its shape.
    static func validateForWriting(_ arrays: [NamedArray], path: String) throws {
        var seen = Set<String>()
        for (index, array) in arrays.enumerated() {
            guard !array.name.isEmpty else {
                throw CheckpointError(path: path, reason: "array \(index) (shape \(array.shape)) has an empty name; give every array a unique, non-empty name")
            }
            guard array.name != metadataKey else {
                throw CheckpointError(path: path, reason: "array \(index) is named \"\(metadataKey)\", which the format reserves for metadata; rename the array")
            }
            guard seen.insert(array.name).inserted else {
                throw CheckpointError(path: path, reason: "the name \"\(array.name)\" is used by more than one array; give every array a unique name")
            }
            if let negative = array.shape.first(where: { $0 < 0 }) {
                throw CheckpointError(path: path, reason: "array \"\(array.name)\" has the negative dimension \(negative) in shape \(array.shape); every dimension must be 0 or more")
            }
            guard let count = elementCount(array.shape) else {
                throw CheckpointError(path: path, reason: "array \"\(array.name)\" has shape \(array.shape), whose element count overflows Int; check the shape")
            }
            guard count == array.values.count else {
                throw CheckpointError(path: path, reason: "array \"\(array.name)\" has shape \(array.shape), which has \(count) elements, but \(array.values.count) values were given; make the shape match the values")
            }
        }
    }

    /// Encodes the JSON header for arrays already in name order, padded with spaces to a multiple of 8 bytes.
    ///
    /// The layout matches the Python `safetensors` package (version 0.8.0): no whitespace,
    /// `"__metadata__"` first and only when there is metadata, then the tensors in order, with
    /// the minimal JSON escapes.
    static func encodeHeader(_ sortedArrays: [NamedArray], metadata: [String: String]) -> [UInt8] {
        var fields: [String] = []

        if !metadata.isEmpty {
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            let pairs = keys.map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            fields.append("\(jsonString(metadataKey)):{\(pairs.joined(separator: ","))}")
        }

        var offset = 0
        for array in sortedArrays {
            let end = offset + array.values.count * MemoryLayout<Float>.size
            let shape = array.shape.map(String.init).joined(separator: ",")
            fields.append("\(jsonString(array.name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }

        var bytes = Array("{\(fields.joined(separator: ","))}".utf8)
        // The 8-byte length field is itself aligned, so a header length that is a multiple of 8
        // puts the data section, and so every float, at an aligned file offset.
        let padding = (8 - bytes.count % 8) % 8
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))
        return bytes
    }

    /// Quotes a string as JSON, escaping only `"`, `\` and control characters.
    static func jsonString(_ string: String) -> String {
        var result = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\u{08}": result += "\\b"
            case "\u{0C}": result += "\\f"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{00}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    /// Writes the floats as little-endian bytes straight from the array's storage.
    static func writeFloats(_ values: [Float], to descriptor: Int32, path: String) throws {
        #if _endian(big)
        // NOTE: this branch has not been run on a big-endian machine.
        let littleEndian = values.map { Float(bitPattern: $0.bitPattern.littleEndian) }
        try littleEndian.withUnsafeBytes { try writeAll($0, to: descriptor, path: path) }
        #else
        try values.withUnsafeBytes { try writeAll($0, to: descriptor, path: path) }
        #endif
    }

    static func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws {
        try bytes.withUnsafeBytes { try writeAll($0, to: descriptor, path: path) }
    }

    /// Writes every byte, retrying after partial writes and interrupts.
    static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, path: String) throws {
        var written = 0
        while written < bytes.count {
            let result = systemWrite(descriptor, bytes.baseAddress! + written, bytes.count - written)
            if result < 0 {
                if errno == EINTR { continue }
                throw CheckpointError(path: path, reason: "failed to write the temporary file (\(String(cString: strerror(errno)))); check that the disk has space")
            }
            written += result
        }
    }
}

// MARK: - Reading

extension SafeTensors {
    /// One tensor entry of a header, checked on its own but not yet against the other entries.
    struct Entry {
        var name: String
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    /// Reads every array and the string metadata of a safetensors file.
    ///
    /// The file is memory-mapped where Foundation allows it, and each tensor's bytes are copied
    /// into its array in one block. The arrays come back in order of their names' UTF-8 bytes.
    ///
    /// - Throws: `CheckpointError` naming the problem and the fix. The file may be shorter than
    ///   the 8-byte header length, or its header length may run past the end of the file or exceed
    ///   `maxHeaderLength`. The header may not be UTF-8 JSON, or may repeat a name or key, miss a
    ///   field, use a dtype other than `F32` or give a shape that does not match its byte range.
    ///   The byte ranges may overlap, leave gaps, run past the data section or end before it does.
    public static func read(from url: URL) throws -> (arrays: [NamedArray], metadata: [String: String]) {
        precondition(url.isFileURL, "SafeTensors.read needs a file URL, got \(url)")
        let path = url.path
        let file: Data
        do {
            file = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw CheckpointError(path: path, reason: "failed to read the file (\(error.localizedDescription)); check the path and the file permissions")
        }

        let headerLength = try readHeaderLength(file, path: path)
        let headerBytes = [UInt8](file[file.startIndex + 8 ..< file.startIndex + 8 + headerLength])
        let header = try parseHeader(headerBytes, path: path)
        let metadata = try parseMetadata(header[metadataKey], path: path)

        let names = header.keys
            .filter { $0 != metadataKey }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var entries: [Entry] = []
        for name in names {
            entries.append(try parseEntry(name: name, value: header[name]!, path: path))
        }

        let dataStart = 8 + headerLength
        try checkLayout(entries, dataLength: file.count - dataStart, dataStart: dataStart, path: path)

        let arrays = file.withUnsafeBytes { fileBytes in
            entries.map { entry in
                NamedArray(
                    name: entry.name,
                    shape: entry.shape,
                    values: floats(fileBytes[(dataStart + entry.begin) ..< (dataStart + entry.end)]))
            }
        }
        return (arrays, metadata)
    }

    /// Returns the header length after checking that the file can hold it.
    static func readHeaderLength(_ file: Data, path: String) throws -> Int {
        guard file.count >= 8 else {
            throw CheckpointError(path: path, reason: "the file is \(file.count) bytes long, shorter than the 8-byte header length that starts every safetensors file; the file is empty, truncated or not a safetensors checkpoint")
        }

        let field = file.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        let length = UInt64(littleEndian: field)
        guard length <= UInt64(maxHeaderLength) else {
            throw CheckpointError(path: path, reason: "the header length in bytes [0, 8) is \(length), above the limit of \(maxHeaderLength) bytes; the file is not a safetensors checkpoint or its first 8 bytes are damaged")
        }
        guard Int(length) <= file.count - 8 else {
            throw CheckpointError(path: path, reason: "the header length in bytes [0, 8) is \(length), but only \(file.count - 8) bytes follow it; the file is truncated or not a safetensors checkpoint")
        }
        return Int(length)
    }

    /// Parses the header bytes into a JSON object after checking UTF-8 and repeated keys.
    static func parseHeader(_ bytes: [UInt8], path: String) throws -> [String: Any] {
        if let badOffset = firstInvalidUTF8Offset(bytes) {
            throw CheckpointError(path: path, reason: "the header is not valid UTF-8 at header byte \(badOffset) (file byte \(8 + badOffset)); the file is damaged or not a safetensors checkpoint")
        }
        // JSON text never contains a raw NUL byte, and rejecting it stops JSONSerialization from
        // reading the header as UTF-16 or UTF-32, which it detects from NUL bytes.
        if let nulOffset = bytes.firstIndex(of: 0) {
            throw CheckpointError(path: path, reason: "the header contains a NUL byte at header byte \(nulOffset) (file byte \(8 + nulOffset)), which UTF-8 JSON never does; the file is damaged or not a safetensors checkpoint")
        }

        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes))
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            throw CheckpointError(path: path, reason: "the \(bytes.count)-byte header is not valid JSON (\(detail)); the file is damaged or not a safetensors checkpoint")
        }
        guard let header = object as? [String: Any] else {
            throw CheckpointError(path: path, reason: "the header is JSON but not an object of tensor entries; the file is not a safetensors checkpoint")
        }

        // JSONSerialization keeps only one of two equal keys, which would drop a tensor silently.
        // NOTE: Swift compares strings by canonical equivalence, so two names that differ only in
        // Unicode normalization (precomposed "é" and "e" plus U+0301) count as the same name here.
        if let duplicate = firstDuplicateKey(in: bytes) {
            switch (duplicate.depth, duplicate.owner) {
            case (1, _):
                throw CheckpointError(path: path, reason: "the header has two entries named \"\(duplicate.key)\"; every tensor needs a unique name, so write the file again")
            case (2, metadataKey?):
                throw CheckpointError(path: path, reason: "the metadata has two values for the key \"\(duplicate.key)\"; every metadata key must be unique, so write the file again")
            case (_, let owner?):
                throw CheckpointError(path: path, reason: "the header entry \"\(owner)\" has the key \"\(duplicate.key)\" twice; write the file again")
            case (_, nil):
                throw CheckpointError(path: path, reason: "the header has the key \"\(duplicate.key)\" twice in one object; write the file again")
            }
        }
        return header
    }

    /// Returns the byte offset of the first invalid UTF-8 sequence, or nil if all bytes are valid.
    static func firstInvalidUTF8Offset(_ bytes: [UInt8]) -> Int? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded): offset += encoded.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    /// A JSON object or array open at the current point of the key scan.
    private struct Frame {
        var isObject: Bool
        var depth: Int
        var owner: String?
        var keys: Set<String> = []
        var lastKey: String?
    }

    /// Finds the first key that occurs twice in one object of valid JSON text.
    ///
    /// Returns the key, the depth of its object (1 for the top level) and the key under which
    /// that object sits, or nil when every object has unique keys.
    static func firstDuplicateKey(in json: [UInt8]) -> (key: String, depth: Int, owner: String?)? {
        var stack: [Frame] = []
        var index = 0
        while index < json.count {
            switch json[index] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let parent = stack.last
                let owner = parent?.isObject == true ? parent?.lastKey : nil
                stack.append(Frame(isObject: json[index] == UInt8(ascii: "{"), depth: stack.count + 1, owner: owner))
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                _ = stack.popLast()
                index += 1
            case UInt8(ascii: "\""):
                let start = index
                index += 1
                while index < json.count, json[index] != UInt8(ascii: "\"") {
                    index += json[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                index = min(index + 1, json.count)
                let token = json[start ..< index]

                // In valid JSON a string is a key exactly when a colon follows it.
                var next = index
                while next < json.count, [0x20, 0x09, 0x0A, 0x0D].contains(json[next]) { next += 1 }
                guard next < json.count, json[next] == UInt8(ascii: ":"), !stack.isEmpty else { continue }
                let key = decodeJSONString(token)
                if stack[stack.count - 1].keys.contains(key) {
                    let frame = stack[stack.count - 1]
                    return (key, frame.depth, frame.owner)
                }
                stack[stack.count - 1].keys.insert(key)
                stack[stack.count - 1].lastKey = key
            default:
                index += 1
            }
        }
        return nil
    }

    /// Decodes one quoted JSON string token, resolving escapes such as `\u0041`.
    static func decodeJSONString(_ token: ArraySlice<UInt8>) -> String {
        if !token.contains(UInt8(ascii: "\\")) {
            return String(decoding: token.dropFirst().dropLast(), as: UTF8.self)
        }
        let decoded = try? JSONSerialization.jsonObject(with: Data(token), options: .fragmentsAllowed)
        return decoded as? String ?? String(decoding: token, as: UTF8.self)
    }

    /// Checks that `__metadata__`, when present, maps strings to strings.
    static func parseMetadata(_ value: Any?, path: String) throws -> [String: String] {
        guard let value else { return [:] }
        guard let object = value as? [String: Any] else {
            throw CheckpointError(path: path, reason: "\"\(metadataKey)\" in the header is not a JSON object; it must map strings to strings")
        }

        var metadata: [String: String] = [:]
        for key in object.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            guard let string = object[key] as? String else {
                throw CheckpointError(path: path, reason: "metadata key \"\(key)\" has the value \(jsonText(object[key]!)), which is not a string; the format allows only string metadata values")
            }
            metadata[key] = string
        }
        return metadata
    }

    /// Parses one tensor entry and checks its dtype and that its byte range fits its shape.
    static func parseEntry(name: String, value: Any, path: String) throws -> Entry {
        guard let object = value as? [String: Any] else {
            throw CheckpointError(path: path, reason: "the header entry for tensor \"\(name)\" is not a JSON object; it needs \"dtype\", \"shape\" and \"data_offsets\"")
        }

        guard let dtypeValue = object["dtype"] else {
            throw CheckpointError(path: path, reason: "tensor \"\(name)\" has no \"dtype\"; every entry needs \"dtype\": \"F32\", \"shape\" and \"data_offsets\"")
        }
        guard let dtype = dtypeValue as? String else {
            throw CheckpointError(path: path, reason: "tensor \"\(name)\" has the dtype \(jsonText(dtypeValue)), which is not a string; use \"F32\"")
        }
        guard dtype == "F32" else {
            let kind = knownDTypes.contains(dtype) ? "a safetensors dtype this reader does not support" : "not a safetensors dtype"
            throw CheckpointError(path: path, reason: "tensor \"\(name)\" has dtype \"\(dtype)\", which is \(kind); only F32 (float32) is supported, so convert the tensor to float32 before saving, for example with tensor.float() in PyTorch or array.astype(numpy.float32) in NumPy")
        }

        guard let shapeValue = object["shape"] else {
            throw CheckpointError(path: path, reason: "tensor \"\(name)\" has no \"shape\"; add its dimensions, for example \"shape\": [2, 3], or [] for a scalar")
        }
        guard let shapeList = shapeValue as? [Any] else {
            throw CheckpointError(path: path, reason: "tensor \"\(name)\" has the shape \(jsonText(shapeValue)), which is not a JSON array of integers")
        }
        var shape: [Int] = []
        for dimension in shapeList {
            guard let size = integer(dimension), size >= 0 else {
                throw CheckpointError(path: path, reason: "tensor \"\(name)\" has the dimension \(jsonText(dimension)) in its shape; every dimension must be an integer of 0 or more")
            }
            shape.append(size)
        }

        guard let offsetsValue = object["data_offsets"] else {
            throw CheckpointError(path: path, reason: "tensor \"\(name)\" has no \"data_offsets\"; add [begin, end], its byte range in the data section")
        }
        guard let offsets = offsetsValue as? [Any], offsets.count == 2,
              let begin = integer(offsets[0]), let end = integer(offsets[1]), begin >= 0, begin <= end else {
            throw CheckpointError(path: path, reason: "tensor \"\(name)\" has the data_offsets \(jsonText(offsetsValue)); they must be two integers [begin, end] with 0 <= begin <= end")
        }

        let count = elementCount(shape)
        let (byteCount, overflow) = (count ?? 0).multipliedReportingOverflow(by: MemoryLayout<Float>.size)
        guard let count, !overflow else {
            throw CheckpointError(path: path, reason: "tensor \"\(name)\" has shape \(shape), whose byte count overflows Int; the header is damaged")
        }
        guard end - begin == byteCount else {
            throw CheckpointError(path: path, reason: "tensor \"\(name)\" has shape \(shape), which needs \(count) x 4 = \(byteCount) bytes, but its data_offsets [\(begin), \(end)] cover \(end - begin) bytes; the header is damaged or was written with another dtype")
        }
        return Entry(name: name, shape: shape, begin: begin, end: end)
    }

    /// Checks that the byte ranges tile the data section exactly: from byte 0, no gaps, no overlaps, nothing left over.
    static func checkLayout(_ entries: [Entry], dataLength: Int, dataStart: Int, path: String) throws {
        // Sorting puts an empty tensor before a non-empty one at the same offset, so it does not count as an overlap.
        let ordered = entries.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }

        if let cut = ordered.first(where: { $0.end > dataLength }) {
            let missingStart = max(cut.begin, dataLength)
            throw CheckpointError(path: path, reason: "tensor \"\(cut.name)\" has data_offsets [\(cut.begin), \(cut.end)], but the data section is only \(dataLength) bytes, so its bytes [\(missingStart), \(cut.end)) are missing (file bytes [\(dataStart + missingStart), \(dataStart + cut.end))); the file is truncated or its header is wrong, so write or copy it again")
        }

        var covered = 0
        var previous: Entry?
        for entry in ordered {
            if entry.begin < covered, let previous {
                throw CheckpointError(path: path, reason: "tensor \"\(entry.name)\" has data_offsets [\(entry.begin), \(entry.end)], which overlap tensor \"\(previous.name)\" at data_offsets [\(previous.begin), \(previous.end)]; every tensor needs its own bytes, so the header is damaged")
            }
            if entry.begin > covered {
                let after = previous.map { " after tensor \"\($0.name)\"" } ?? ""
                throw CheckpointError(path: path, reason: "data section bytes [\(covered), \(entry.begin))\(after) belong to no tensor before tensor \"\(entry.name)\" at data_offsets [\(entry.begin), \(entry.end)]; the tensors must follow each other without gaps, so the header is damaged")
            }
            covered = entry.end
            previous = entry
        }

        guard covered == dataLength else {
            let after = previous.map { ", the end of tensor \"\($0.name)\"" } ?? ""
            throw CheckpointError(path: path, reason: "the data section is \(dataLength) bytes long, but the tensors end at byte \(covered)\(after), so bytes [\(covered), \(dataLength)) belong to no tensor; the header is damaged or data was appended to the file")
        }
    }

    /// Copies little-endian float32 bytes into a new array in one block.
    static func floats(_ bytes: Slice<UnsafeRawBufferPointer>) -> [Float] {
        let count = bytes.count / MemoryLayout<Float>.size
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes))
            #if _endian(big)
            // NOTE: this branch has not been run on a big-endian machine.
            for index in 0 ..< count {
                buffer[index] = Float(bitPattern: UInt32(littleEndian: buffer[index].bitPattern))
            }
            #endif
            initialized = count
        }
    }

    /// Returns a JSON number as an Int when it is an integer, rejecting `true`, `false` and `2.0`.
    static func integer(_ value: Any) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        // JSONSerialization returns booleans and floating-point numbers as NSNumber too;
        // their storage types are "c" or "B" and "d" or "f".
        let storage = String(cString: number.objCType)
        guard ["c", "B", "d", "f"].allSatisfy({ $0 != storage }) else { return nil }
        return number as? Int
    }

    /// Renders a value from JSONSerialization as JSON text for an error message, showing booleans as `true` and `false`.
    static func jsonText(_ value: Any) -> String {
        switch value {
        case let string as String:
            return jsonString(string)
        case let number as NSNumber:
            let storage = String(cString: number.objCType)
            if storage == "c" || storage == "B" { return number.boolValue ? "true" : "false" }
            return "\(number)"
        case let list as [Any]:
            return "[" + list.map(jsonText).joined(separator: ", ") + "]"
        case is [String: Any]:
            return "a JSON object"
        default:
            return "null"
        }
    }

    /// Returns the product of the dimensions, or nil when it overflows Int.
    static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            count = product
        }
        return count
    }
}
