import Foundation
import Testing
import Tensor

/// A folder under the system temporary directory, removed with everything in it when released.
private final class ScratchFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("SafeTensorsTests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    func file(_ name: String) -> URL {
        url.appendingPathComponent(name)
    }

    /// Returns the names in the folder, sorted, to show that no temporary file was left behind.
    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }
}

/// Assembles a file from a header length, header text and data bytes, without padding.
private func checkpointBytes(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
    let headerBytes = Array(header.utf8)
    let length = declaredLength ?? UInt64(headerBytes.count)
    return withUnsafeBytes(of: length.littleEndian) { Array($0) } + headerBytes + data
}

/// Returns one F32 tensor entry of a hand-written header.
private func entry(_ name: String, shape: [Int], offsets: (Int, Int)) -> String {
    let dimensions = shape.map(String.init).joined(separator: ",")
    return "\"\(name)\":{\"dtype\":\"F32\",\"shape\":[\(dimensions)],\"data_offsets\":[\(offsets.0),\(offsets.1)]}"
}

private func bits(_ values: [Float]) -> [UInt32] {
    values.map(\.bitPattern)
}

/// A damaged file and the fragments its error message must contain.
struct CorruptCheckpoint: Sendable, CustomTestStringConvertible {
    let label: String
    let bytes: [UInt8]
    let fragments: [String]

    var testDescription: String { label }

    static let all: [CorruptCheckpoint] = [
        CorruptCheckpoint(label: "empty file", bytes: [], fragments: ["0 bytes long", "shorter than the 8-byte header length"]),
        CorruptCheckpoint(label: "five bytes", bytes: [1, 0, 0, 0, 0], fragments: ["5 bytes long", "truncated"]),
        CorruptCheckpoint(
            // The first 8 bytes of a JSON text, {"weight, read as a little-endian UInt64.
            label: "text file",
            bytes: Array("{\"weights\": [1, 2, 3]}".utf8),
            fragments: ["header length in bytes [0, 8) is 8388068008349082235", "above the limit of 100000000 bytes"]),
        CorruptCheckpoint(
            label: "header length one over limit",
            bytes: checkpointBytes(header: "{}", declaredLength: 100_000_001),
            fragments: ["is 100000001, above the limit of 100000000 bytes"]),
        CorruptCheckpoint(
            label: "header length at limit past file end",
            bytes: checkpointBytes(header: "{}", declaredLength: 100_000_000),
            fragments: ["is 100000000, but only 2 bytes follow it", "truncated"]),
        CorruptCheckpoint(
            label: "header cut short",
            bytes: Array(checkpointBytes(header: "{" + entry("w", shape: [1], offsets: (0, 4)) + "}").prefix(30)),
            fragments: ["is 54, but only 22 bytes follow it"]),
        CorruptCheckpoint(
            label: "header not UTF-8",
            bytes: checkpointBytes(header: "{\"", declaredLength: 7) + [0xFF] + Array("\":1}".utf8),
            fragments: ["not valid UTF-8 at header byte 2 (file byte 10)"]),
        CorruptCheckpoint(
            // {"w":1} as UTF-16LE: valid UTF-8 bytes, but with NUL after every ASCII character.
            label: "header in UTF-16",
            bytes: checkpointBytes(header: "", declaredLength: 14) + Array("{\"w\":1}".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }),
            fragments: ["NUL byte at header byte 1 (file byte 9)"]),
        CorruptCheckpoint(
            label: "header not JSON",
            bytes: checkpointBytes(header: "{\"w\": {\"dtype\": \"F32\","),
            fragments: ["22-byte header is not valid JSON"]),
        CorruptCheckpoint(
            label: "header JSON array",
            bytes: checkpointBytes(header: "[1, 2]"),
            fragments: ["not an object of tensor entries"]),
        CorruptCheckpoint(
            label: "entry not object",
            bytes: checkpointBytes(header: "{\"w\": [1, 2]}"),
            fragments: ["entry for tensor \"w\" is not a JSON object"]),
        CorruptCheckpoint(
            label: "missing dtype",
            bytes: checkpointBytes(header: "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]),
            fragments: ["tensor \"w\" has no \"dtype\""]),
        CorruptCheckpoint(
            label: "F16 dtype",
            bytes: checkpointBytes(header: "{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]),
            fragments: ["tensor \"w\" has dtype \"F16\"", "a safetensors dtype this reader does not support", "only F32 (float32) is supported"]),
        CorruptCheckpoint(
            label: "unknown dtype",
            bytes: checkpointBytes(header: "{\"w\":{\"dtype\":\"float32\",\"shape\":[1],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]),
            fragments: ["tensor \"w\" has dtype \"float32\"", "not a safetensors dtype", "only F32"]),
        CorruptCheckpoint(
            label: "missing shape",
            bytes: checkpointBytes(header: "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]),
            fragments: ["tensor \"w\" has no \"shape\""]),
        CorruptCheckpoint(
            label: "shape not array",
            bytes: checkpointBytes(header: "{\"w\":{\"dtype\":\"F32\",\"shape\":\"2x3\",\"data_offsets\":[0,24]}}", data: Array(repeating: 0, count: 24)),
            fragments: ["tensor \"w\" has the shape \"2x3\", which is not a JSON array of integers"]),
        CorruptCheckpoint(
            label: "dtype not string",
            bytes: checkpointBytes(header: "{\"w\":{\"dtype\":null,\"shape\":[1],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]),
            fragments: ["tensor \"w\" has the dtype null, which is not a string"]),
        CorruptCheckpoint(
            label: "negative dimension",
            bytes: checkpointBytes(header: "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]),
            fragments: ["tensor \"w\" has the dimension -1"]),
        CorruptCheckpoint(
            label: "fractional dimension",
            bytes: checkpointBytes(header: "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]),
            fragments: ["tensor \"w\" has the dimension 1.5"]),
        CorruptCheckpoint(
            label: "boolean dimension",
            bytes: checkpointBytes(header: "{\"w\":{\"dtype\":\"F32\",\"shape\":[true],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]),
            fragments: ["tensor \"w\" has the dimension true in its shape"]),
        CorruptCheckpoint(
            label: "missing data_offsets",
            bytes: checkpointBytes(header: "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", data: [0, 0, 0, 0]),
            fragments: ["tensor \"w\" has no \"data_offsets\""]),
        CorruptCheckpoint(
            label: "offsets reversed",
            bytes: checkpointBytes(header: "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", data: [0, 0, 0, 0]),
            fragments: ["tensor \"w\" has the data_offsets [4, 0]", "0 <= begin <= end"]),
        CorruptCheckpoint(
            label: "shape and offsets disagree",
            bytes: checkpointBytes(header: "{" + entry("w", shape: [2, 3], offsets: (0, 20)) + "}", data: Array(repeating: 0, count: 20)),
            fragments: ["tensor \"w\" has shape [2, 3]", "needs 6 x 4 = 24 bytes", "data_offsets [0, 20] cover 20 bytes"]),
        CorruptCheckpoint(
            label: "data truncated",
            bytes: checkpointBytes(
                header: "{" + entry("a", shape: [2], offsets: (0, 8)) + "," + entry("b", shape: [2], offsets: (8, 16)) + "}",
                data: Array(repeating: 0, count: 12)),
            fragments: ["tensor \"b\" has data_offsets [8, 16]", "data section is only 12 bytes", "bytes [12, 16) are missing", "truncated"]),
        CorruptCheckpoint(
            label: "offsets past data section",
            bytes: checkpointBytes(header: "{" + entry("w", shape: [1], offsets: (100, 104)) + "}", data: [0, 0, 0, 0]),
            fragments: ["tensor \"w\" has data_offsets [100, 104]", "data section is only 4 bytes", "bytes [100, 104) are missing"]),
        CorruptCheckpoint(
            label: "overlapping tensors",
            bytes: checkpointBytes(
                header: "{" + entry("a", shape: [2], offsets: (0, 8)) + "," + entry("b", shape: [2], offsets: (4, 12)) + "}",
                data: Array(repeating: 0, count: 12)),
            fragments: ["tensor \"b\" has data_offsets [4, 12], which overlap tensor \"a\" at data_offsets [0, 8]"]),
        CorruptCheckpoint(
            label: "gap between tensors",
            bytes: checkpointBytes(
                header: "{" + entry("a", shape: [1], offsets: (0, 4)) + "," + entry("b", shape: [1], offsets: (8, 12)) + "}",
                data: Array(repeating: 0, count: 12)),
            fragments: ["bytes [4, 8) after tensor \"a\" belong to no tensor before tensor \"b\""]),
        CorruptCheckpoint(
            label: "first tensor not at zero",
            bytes: checkpointBytes(header: "{" + entry("w", shape: [1], offsets: (4, 8)) + "}", data: Array(repeating: 0, count: 8)),
            fragments: ["bytes [0, 4) belong to no tensor before tensor \"w\""]),
        CorruptCheckpoint(
            label: "bytes after last tensor",
            bytes: checkpointBytes(header: "{" + entry("w", shape: [1], offsets: (0, 4)) + "}", data: Array(repeating: 0, count: 8)),
            fragments: ["data section is 8 bytes long, but the tensors end at byte 4, the end of tensor \"w\"", "bytes [4, 8) belong to no tensor"]),
        CorruptCheckpoint(
            label: "duplicate tensor name",
            bytes: checkpointBytes(
                header: "{" + entry("w", shape: [1], offsets: (0, 4)) + "," + entry("w", shape: [1], offsets: (4, 8)) + "}",
                data: Array(repeating: 0, count: 8)),
            fragments: ["two entries named \"w\""]),
        CorruptCheckpoint(
            label: "duplicate name spelt with escape",
            bytes: checkpointBytes(
                header: "{" + entry("w", shape: [1], offsets: (0, 4)) + "," + entry("\\u0077", shape: [1], offsets: (4, 8)) + "}",
                data: Array(repeating: 0, count: 8)),
            fragments: ["two entries named \"w\""]),
        CorruptCheckpoint(
            label: "duplicate key in entry",
            bytes: checkpointBytes(
                header: "{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                data: [0, 0, 0, 0]),
            fragments: ["entry \"w\" has the key \"dtype\" twice"]),
        CorruptCheckpoint(
            label: "metadata value not string",
            bytes: checkpointBytes(header: "{\"__metadata__\":{\"epoch\":3}}"),
            fragments: ["metadata key \"epoch\" has the value 3", "only string metadata values"]),
        CorruptCheckpoint(
            label: "metadata not object",
            bytes: checkpointBytes(header: "{\"__metadata__\":\"x\"}"),
            fragments: ["\"__metadata__\" in the header is not a JSON object"]),
        CorruptCheckpoint(
            label: "duplicate metadata key",
            bytes: checkpointBytes(header: "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}"),
            fragments: ["metadata has two values for the key \"k\""]),
    ]
}

@Suite("SafeTensors")
struct SafeTensorsTests {
    // MARK: Round trips

    @Test("round trip keeps names shapes bits")
    func roundTrip() throws {
        let folder = try ScratchFolder()
        let url = folder.file("model.safetensors")
        let arrays = [
            NamedArray(name: "weight", shape: [2, 3], values: [1, -2, 0.5, 3.25, -0.0, 7]),
            NamedArray(name: "scale", shape: [], values: [0.1]),
            NamedArray(name: "empty rows", shape: [0, 4], values: []),
            NamedArray(name: "empty columns", shape: [3, 0], values: []),
            NamedArray(name: "special", shape: [1, 1, 5], values: [.infinity, -.infinity, .nan, .leastNonzeroMagnitude, .greatestFiniteMagnitude]),
            NamedArray(name: "blocks.0.attention \"q\"\n\u{1}é", shape: [2], values: [4, 5]),
        ]
        let metadata = ["format": "TransformerSteps", "step": "10", "empty": "", "quote \"\\\t": "é→\u{0}"]

        try SafeTensors.write(arrays, metadata: metadata, to: url)
        let loaded = try SafeTensors.read(from: url)

        // Names come back in order of their UTF-8 bytes: space, '"' and '.' sort before letters.
        let expectedOrder = ["blocks.0.attention \"q\"\n\u{1}é", "empty columns", "empty rows", "scale", "special", "weight"]
        #expect(loaded.arrays.map(\.name) == expectedOrder)
        for original in arrays {
            let copy = try #require(loaded.arrays.first { $0.name == original.name })
            #expect(copy.shape == original.shape, "shape of \(original.name)")
            #expect(bits(copy.values) == bits(original.values), "bits of \(original.name)")
        }
        #expect(loaded.metadata == metadata)
    }

    @Test("round trip of 2^20 values")
    func largeRoundTrip() throws {
        let folder = try ScratchFolder()
        let url = folder.file("large.safetensors")
        let count = 1 << 20
        let values = (0 ..< count).map { Float($0) * 0.25 - 1000 }
        let arrays = [
            NamedArray(name: "a", shape: [1024, 1024], values: values),
            NamedArray(name: "b", shape: [3], values: [1, 2, 3]),
        ]

        try SafeTensors.write(arrays, to: url)
        let loaded = try SafeTensors.read(from: url)

        #expect(loaded.arrays == arrays)
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int
        // The 133-byte JSON header is padded to 136 bytes.
        #expect(size == 8 + 136 + (count + 3) * 4)
    }

    @Test("empty checkpoint is sixteen bytes")
    func emptyCheckpoint() throws {
        let folder = try ScratchFolder()
        let url = folder.file("empty.safetensors")

        try SafeTensors.write([], to: url)

        // Header "{}" padded with six spaces to 8 bytes, after the length field 8.
        let expected: [UInt8] = [8, 0, 0, 0, 0, 0, 0, 0] + Array("{}      ".utf8)
        #expect([UInt8](try Data(contentsOf: url)) == expected)
        let loaded = try SafeTensors.read(from: url)
        #expect(loaded.arrays.isEmpty)
        #expect(loaded.metadata.isEmpty)
    }

    @Test("single array has hand-worked bytes")
    func singleArrayBytes() throws {
        let folder = try ScratchFolder()
        let url = folder.file("one.safetensors")

        try SafeTensors.write([NamedArray(name: "w", shape: [1], values: [1])], to: url)

        // 54 bytes of JSON padded to 56, then 1.0 as little-endian float32 (0x3F800000).
        let json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"
        #expect(json.utf8.count == 54)
        let expected: [UInt8] = [56, 0, 0, 0, 0, 0, 0, 0] + Array((json + "  ").utf8) + [0x00, 0x00, 0x80, 0x3F]
        #expect([UInt8](try Data(contentsOf: url)) == expected)
    }

    @Test("data section starts 8-byte aligned", arguments: ["w", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh"])
    func alignment(name: String) throws {
        let folder = try ScratchFolder()
        let url = folder.file("aligned.safetensors")

        try SafeTensors.write([NamedArray(name: name, shape: [2], values: [1, 2])], to: url)

        let bytes = [UInt8](try Data(contentsOf: url))
        let headerLength = bytes[0 ..< 8].reversed().reduce(0) { $0 << 8 | Int($1) }
        #expect(headerLength % 8 == 0)
        #expect(bytes.count == 8 + headerLength + 8)
    }

    @Test("same arrays give identical bytes")
    func deterministicBytes() throws {
        let folder = try ScratchFolder()
        let first = folder.file("first.safetensors")
        let second = folder.file("second.safetensors")
        let arrays = [
            NamedArray(name: "b", shape: [2], values: [1, 2]),
            NamedArray(name: "a", shape: [1, 2], values: [3, 4]),
            NamedArray(name: "c", shape: [], values: [5]),
        ]
        var metadata: [String: String] = [:]
        for key in ["zeta", "alpha", "mid", "Beta", "é"] { metadata[key] = key.uppercased() }
        var reordered: [String: String] = [:]
        for key in metadata.keys.sorted().reversed() { reordered[key] = metadata[key] }

        try SafeTensors.write(arrays, metadata: metadata, to: first)
        try SafeTensors.write(arrays.reversed(), metadata: reordered, to: second)

        #expect(try Data(contentsOf: first) == Data(contentsOf: second))
        // Metadata keys are sorted by UTF-8 bytes: uppercase before lowercase, "é" (0xC3 0xA9) last.
        let text = String(decoding: try Data(contentsOf: first), as: UTF8.self)
        #expect(text.contains("{\"__metadata__\":{\"Beta\":\"BETA\",\"alpha\":\"ALPHA\",\"mid\":\"MID\",\"zeta\":\"ZETA\",\"é\":\"É\"},\"a\":"))
    }

    @Test("header escapes control characters")
    func headerEscapes() throws {
        let folder = try ScratchFolder()
        let url = folder.file("escapes.safetensors")
        let value = "\u{8}\u{C}\n\r\t\u{1F}\"\\/é\u{7F}"

        try SafeTensors.write([], metadata: ["k": value], to: url)

        // JSON's short escapes where they exist, \u00XX for other control characters, and
        // everything else (including "/", "é" and DEL) as UTF-8, as Python safetensors 0.8.0 writes them.
        let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        #expect(text.contains(#"{"__metadata__":{"k":"\b\f\n\r\t\u001f\"\\/é"# + "\u{7F}\"}}"))
        #expect(try SafeTensors.read(from: url).metadata == ["k": value])
    }

    // MARK: Python reference

    @Test("Python fixture loads with exact values")
    func pythonFixture() throws {
        let url = try #require(Bundle.module.url(forResource: "python-reference", withExtension: "safetensors", subdirectory: "Fixtures"))

        let loaded = try SafeTensors.read(from: url)

        // Bit patterns printed by Tools/make_safetensors_fixture.py (numpy float32).
        #expect(loaded.arrays.map(\.name) == ["bias", "blocks.0.weight", "empty", "scale"])
        #expect(loaded.arrays.map(\.shape) == [[3], [2, 3], [0, 2], []])
        #expect(bits(loaded.arrays[0].values) == [0x3DCC_CCCD, 0x8000_0000, 0x0000_0001])
        #expect(bits(loaded.arrays[1].values) == [0x3F80_0000, 0xC020_0000, 0x7F7F_FFFF, 0xFF80_0000, 0x7FC0_0000, 0x3EAA_AAAB])
        #expect(loaded.arrays[2].values.isEmpty)
        #expect(bits(loaded.arrays[3].values) == [0x3FC0_0000])
        #expect(loaded.metadata == ["note": "tiny \"fixture\"\nstep é"])
    }

    @Test("writer reproduces Python fixture bytes")
    func pythonFixtureBytes() throws {
        let fixture = try #require(Bundle.module.url(forResource: "python-reference", withExtension: "safetensors", subdirectory: "Fixtures"))
        let folder = try ScratchFolder()
        let url = folder.file("copy.safetensors")
        let loaded = try SafeTensors.read(from: fixture)

        try SafeTensors.write(loaded.arrays, metadata: loaded.metadata, to: url)

        #expect(try Data(contentsOf: url) == Data(contentsOf: fixture))
    }

    // MARK: Corrupt files

    @Test("read rejects corrupt file", arguments: CorruptCheckpoint.all)
    func corruptFile(_ corrupt: CorruptCheckpoint) throws {
        let folder = try ScratchFolder()
        let url = folder.file("corrupt.safetensors")
        try Data(corrupt.bytes).write(to: url)

        let error = #expect(throws: CheckpointError.self) { try SafeTensors.read(from: url) }

        #expect(error?.path == url.path)
        for fragment in corrupt.fragments {
            #expect(error?.reason.contains(fragment) == true, "\(error?.reason ?? "no error") should contain: \(fragment)")
        }
    }

    @Test("read rejects missing file")
    func missingFile() throws {
        let folder = try ScratchFolder()
        let url = folder.file("absent.safetensors")

        let error = #expect(throws: CheckpointError.self) { try SafeTensors.read(from: url) }

        #expect(error?.reason.contains("failed to read the file") == true)
        #expect(error?.description.hasPrefix("Checkpoint \(url.path): ") == true)
    }

    @Test("read accepts unpadded header")
    func unpaddedHeader() throws {
        let folder = try ScratchFolder()
        let url = folder.file("unpadded.safetensors")
        // 1.5 and -2 as little-endian float32: 0x3FC00000, 0xC0000000.
        let bytes = checkpointBytes(
            header: "{" + entry("w", shape: [2], offsets: (0, 8)) + "}",
            data: [0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x00, 0xC0])
        try Data(bytes).write(to: url)

        let loaded = try SafeTensors.read(from: url)

        #expect(loaded.arrays == [NamedArray(name: "w", shape: [2], values: [1.5, -2])])
    }

    @Test("error without path prints reason only")
    func errorWithoutPath() {
        let error = CheckpointError("tensor \"w\" is missing")

        #expect(error.path == nil)
        #expect(error.description == "tensor \"w\" is missing")
    }

    // MARK: Failed writes

    @Test(
        "invalid arrays leave existing file untouched",
        arguments: [
            ([NamedArray(name: "", shape: [1], values: [1])], "array 0 (shape [1]) has an empty name"),
            ([NamedArray(name: "w", shape: [2, 3], values: [1, 2])], "array \"w\" has shape [2, 3], which has 6 elements, but 2 values were given"),
            ([NamedArray(name: "w", shape: [-1, 2], values: [])], "negative dimension -1 in shape [-1, 2]"),
            ([NamedArray(name: "w", shape: [1], values: [1]), NamedArray(name: "w", shape: [], values: [2])], "the name \"w\" is used by more than one array"),
            ([NamedArray(name: "__metadata__", shape: [1], values: [1])], "reserves for metadata"),
        ])
    func invalidArrays(arrays: [NamedArray], fragment: String) throws {
        let folder = try ScratchFolder()
        let url = folder.file("model.safetensors")
        try SafeTensors.write([NamedArray(name: "old", shape: [2], values: [1, 2])], to: url)
        let before = try Data(contentsOf: url)

        let error = #expect(throws: CheckpointError.self) { try SafeTensors.write(arrays, to: url) }

        #expect(error?.reason.contains(fragment) == true, "\(error?.reason ?? "no error") should contain: \(fragment)")
        #expect(try Data(contentsOf: url) == before)
        #expect(try folder.contents() == ["model.safetensors"])
    }

    @Test("write into missing folder throws")
    func missingFolder() throws {
        let folder = try ScratchFolder()
        let url = folder.file("absent").appendingPathComponent("model.safetensors")

        let error = #expect(throws: CheckpointError.self) {
            try SafeTensors.write([NamedArray(name: "w", shape: [1], values: [1])], to: url)
        }

        #expect(error?.reason.contains("failed to create a temporary file in \(folder.file("absent").path)") == true)
        #expect(try folder.contents().isEmpty)
    }

    @Test("failed rename removes temporary file")
    func failedRename() throws {
        let folder = try ScratchFolder()
        // A non-empty folder at the destination makes rename(2) fail after the data is written.
        let url = folder.file("model.safetensors")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        try Data([1, 2, 3]).write(to: url.appendingPathComponent("inside"))

        let error = #expect(throws: CheckpointError.self) {
            try SafeTensors.write([NamedArray(name: "w", shape: [1], values: [1])], to: url)
        }

        #expect(error?.reason.contains("failed to rename the temporary file to the checkpoint path") == true)
        #expect(try folder.contents() == ["model.safetensors"])
        #expect(try Data(contentsOf: url.appendingPathComponent("inside")) == Data([1, 2, 3]))
    }

    @Test("write replaces existing file")
    func replaceExisting() throws {
        let folder = try ScratchFolder()
        let url = folder.file("model.safetensors")
        try Data(repeating: 0xAB, count: 1000).write(to: url)

        try SafeTensors.write([NamedArray(name: "w", shape: [1], values: [2])], to: url)

        #expect(try SafeTensors.read(from: url).arrays == [NamedArray(name: "w", shape: [1], values: [2])])
        #expect(try folder.contents() == ["model.safetensors"])
    }
}
