import Foundation
import StepKit
import TokenizerStep

// Step 01: text becomes token ids, one per Unicode scalar or one per learned byte sequence (BPE).

/// The strings the overview tokenizes: plain words, then the cases where Characters, scalars and
/// bytes disagree.
enum Samples {
    static let strings = [
        "the lighthouse keeper",
        "café",
        "cafe\u{301}",
        "naïve café",
        "👍🏽",
        "🇫🇷",
        "👨\u{200D}👩\u{200D}👧",
        "日本",
    ]
}

/// The tokenizer `--decode` uses.
enum TokenizerChoice: String, CaseIterable {
    case char, bpe
}

runStepProgram {
    var flags = FlagParser(
        program: "Step01Tokenizer",
        summary: "Trains a character tokenizer (one token per Unicode scalar, [UNK] for the rest) and a byte-level"
            + " BPE tokenizer on a text, and shows how strings with accents and emoji turn into tokens."
            + " Text given to --add, --encode and --show-units may write a scalar as \\u{301}.")
    let standard = flags.standardFlags()
    let bpeVocabSize = flags.int(
        "bpe-vocab-size", default: 320, range: .between(BPETokenizer.byteTokenCount, 65_536),
        help: "vocabulary size BPE training aims for: the 256 byte tokens plus one id per merge")
    let shownMerges = flags.int("show-merges", default: 8, range: .atLeast(0), help: "number of learned BPE merges to list")
    let added = flags.optionalString(
        "add", help: "retrain both tokenizers with this sentence appended to the text as a line of its own, and compare before and after")
    let encodeText = flags.optionalString("encode", help: "encode this text with both tokenizers and check that decoding gives the same bytes")
    let unitsText = flags.optionalString("show-units", help: "list each Character of this text with its Unicode scalars, UTF-8 bytes and token ids")
    let decodeIDs = flags.intList("decode", default: [], help: "comma-separated token ids to decode, as in 1,2,3")
    let decodeWith = flags.choice("tokenizer", default: TokenizerChoice.char, help: "the tokenizer --decode uses")
    let saveVocab = flags.optionalPath("save-vocab", help: "write the character tokenizer's vocabulary to this JSON file")
    let saveBPE = flags.optionalPath("save-bpe", help: "write the BPE merges to this JSON file")
    try flags.parse(CommandLine.arguments.dropFirst())

    // Every check a user can fail runs before anything is printed.
    let sentence = try added.value.map { try resolvingEscapes($0, flag: "--add") }
    if sentence == "" {
        throw StepError("--add is empty, so there is nothing to add to the text. Pass a sentence, as in --add \"Crème brûlée\".")
    }
    let textToEncode = try encodeText.value.map { try resolvingEscapes($0, flag: "--encode") }
    let textToShow = try unitsText.value.map { try resolvingEscapes($0, flag: "--show-units") }
    for (flag, path) in [("--save-vocab", saveVocab.value), ("--save-bpe", saveBPE.value)] {
        if let path { try checkFolderExists(of: path, flag: flag) }
    }
    let corpus = try standard.loadCorpus()
    let characterTokenizer = try CharTokenizer(training: corpus.text)
    let bpe = try trainBPE(on: corpus.text, vocabSize: bpeVocabSize.value)
    if decodeIDs.isSet {
        try checkDecodable(decodeIDs.value, with: decodeWith.value, characterTokenizer: characterTokenizer, bpe: bpe.tokenizer)
    }
    print("Text: \(corpus.summary)")
    print()

    var ranExperiment = false
    if let sentence {
        try compareAfterAdding(sentence, corpus: corpus.text,
                               characterTokenizer: characterTokenizer, bpe: bpe, vocabSize: bpeVocabSize.value)
        ranExperiment = true
    }
    if let text = textToEncode {
        try showEncoding(text, characterTokenizer: characterTokenizer, bpe: bpe.tokenizer)
        ranExperiment = true
    }
    if let text = textToShow {
        try showUnits(text, characterTokenizer: characterTokenizer, bpe: bpe.tokenizer)
        ranExperiment = true
    }
    if decodeIDs.isSet {
        try showDecoding(decodeIDs.value, with: decodeWith.value, characterTokenizer: characterTokenizer, bpe: bpe.tokenizer)
        ranExperiment = true
    }
    if !ranExperiment {
        showOverview(characterTokenizer: characterTokenizer, bpe: bpe, shownMerges: shownMerges.value)
    }

    if let path = saveVocab.value {
        try write(characterTokenizer.jsonData(), to: path, flag: "--save-vocab")
        print("Saved the character vocabulary (" + counted(characterTokenizer.vocabSize, "id") + ") to \(path)")
    }
    if let path = saveBPE.value {
        try write(bpe.tokenizer.jsonData(), to: path, flag: "--save-bpe")
        print("Saved the BPE merges (" + counted(bpe.tokenizer.merges.count, "merge") + ") to \(path)")
    }
}

// MARK: - Experiments

/// Trains BPE with a progress bar on standard error, which shows only in a terminal.
func trainBPE(on text: String, vocabSize: Int) throws -> BPETraining {
    let progress = ProgressBar(total: vocabSize - BPETokenizer.byteTokenCount, label: "BPE", unit: "merges")
    let training = try BPETokenizer.train(on: text, vocabSize: vocabSize) { progress.update($0) }
    progress.finish()
    return training
}

/// Prints both vocabularies and how the sample strings tokenize.
func showOverview(characterTokenizer: CharTokenizer, bpe: BPETraining, shownMerges: Int) {
    print("Character tokenizer: one token per Unicode scalar of the training text")
    print("  vocabulary size \(characterTokenizer.vocabSize) = [UNK] (id 0) + " + counted(characterTokenizer.scalars.count, "scalar") + ", ids in code point order:")
    let scalarLabels = characterTokenizer.scalars.map { printableLabel($0) }
    for line in wrapped(scalarLabels, width: 76) { print("  " + line) }
    print()

    print("Byte-level BPE tokenizer: 256 byte tokens, then repeated merges of the most frequent adjacent pair")
    print("  " + bpe.summary)
    print("  the training text became " + counted(bpe.trainingTokenCount, "token"))
    let merges = bpe.tokenizer.merges.prefix(shownMerges)
    if !merges.isEmpty {
        let heading = merges.count < bpe.tokenizer.merges.count
            ? "the first " + (merges.count == 1 ? "merge" : "\(merges.count) merges")
            : (merges.count == 1 ? "the merge" : "the merges")
        print("  " + heading + ":")
        var table = Table(columns: ["id", Table.Column("pair", alignment: .left), "times seen", Table.Column("token", alignment: .left)])
        for (index, merge) in merges.enumerated() {
            let pair = bpe.tokenizer.label(for: merge.left) + " + " + bpe.tokenizer.label(for: merge.right)
            table.addRow(["\(merge.id)", pair, "\(bpe.mergeCounts[index])", bpe.tokenizer.label(for: merge.id)])
        }
        print(indented(table.render()))
    }
    print()

    print("How sample strings tokenize (the same text may be written with different scalars):")
    print(indented(countTable(Samples.strings, characterTokenizer: characterTokenizer, bpe: bpe.tokenizer).render()))
}

/// Retrains both tokenizers with `sentence` appended and prints what changed.
func compareAfterAdding(_ sentence: String, corpus: String, characterTokenizer: CharTokenizer, bpe: BPETraining, vocabSize: Int) throws {
    let extended = corpus + (corpus.hasSuffix("\n") ? "" : "\n") + sentence + "\n"
    let newCharacterTokenizer = try CharTokenizer(training: extended)
    let newBPE = try trainBPE(on: extended, vocabSize: vocabSize)

    print("Appended the sentence \(literal(sentence)) to the text as a line of its own and retrained both tokenizers.")
    print()
    var sizes = Table(columns: [Table.Column("", alignment: .left), "before", "after"])
    sizes.addRow(["character vocabulary size", "\(characterTokenizer.vocabSize)", "\(newCharacterTokenizer.vocabSize)"])
    sizes.addRow(["BPE vocabulary size", "\(bpe.tokenizer.vocabSize)", "\(newBPE.tokenizer.vocabSize)"])
    print(sizes)
    let newScalars = newCharacterTokenizer.scalars.filter { characterTokenizer.unknownScalars(in: String($0)) == [$0] }
    if !newScalars.isEmpty {
        print("New scalars in the character vocabulary: " + newScalars.map { printableLabel($0) + " " + codePoint($0) }.joined(separator: ", "))
    }
    printMergeComparison(MergeComparison(old: bpe.tokenizer, new: newBPE.tokenizer), oldCount: bpe.tokenizer.merges.count)
    print()

    print("Token counts of each sentence:")
    var counts = Table(columns: [Table.Column("text", alignment: .left), "scalars", "UTF-8 bytes",
                                 "char before", "char after", "BPE before", "BPE after"])
    for text in Samples.strings + [sentence] {
        counts.addRow([
            literal(text), "\(text.unicodeScalars.count)", "\(text.utf8.count)",
            "\(characterTokenizer.encode(text).count)", "\(newCharacterTokenizer.encode(text).count)",
            "\(bpe.tokenizer.encode(text).count)", "\(newBPE.tokenizer.encode(text).count)",
        ])
    }
    print(counts)
    print()

    print("The new sentence, character tokenizer (ids follow code point order, so new scalars shift later ids):")
    var characterTable = Table(columns: ["#", Table.Column("scalar", alignment: .left), Table.Column("UTF-8 bytes", alignment: .left),
                                         Table.Column("id before", alignment: .right), Table.Column("id after", alignment: .right)])
    let before = characterTokenizer.encode(sentence)
    let after = newCharacterTokenizer.encode(sentence)
    for (index, scalar) in sentence.unicodeScalars.enumerated() {
        characterTable.addRow(["\(index + 1)", printableLabel(scalar), hexBytes(Array(String(scalar).utf8)),
                               idLabel(before[index]), idLabel(after[index])])
    }
    print(characterTable)
    print()

    let bpeBefore = bpe.tokenizer.encode(sentence)
    let bpeAfter = newBPE.tokenizer.encode(sentence)
    print("The new sentence, BPE tokenizer before retraining:")
    print(tokenTable(bpeBefore, bpe: bpe.tokenizer))
    print()
    let unitsBefore = bpeBefore.map { (try? bpe.tokenizer.bytes(for: $0)) ?? [] }
    let unitsAfter = bpeAfter.map { (try? newBPE.tokenizer.bytes(for: $0)) ?? [] }
    if unitsAfter == unitsBefore {
        print("After retraining, BPE splits the new sentence into the same " + counted(bpeAfter.count, "byte sequence")
              + (bpeAfter == bpeBefore ? " with the same ids." : " (some ids changed, because merges were learned in another order)."))
    } else {
        print("The new sentence, BPE tokenizer after retraining:")
        print(tokenTable(bpeAfter, bpe: newBPE.tokenizer))
    }
}

/// Prints which BPE merges retraining kept, added and dropped, compared by their bytes.
func printMergeComparison(_ comparison: MergeComparison, oldCount: Int) {
    let newCount = comparison.sharedCount + comparison.added.count
    if comparison.isUnchanged {
        print("BPE merges: the same \(counted(newCount, "merge")) in the same order, so every BPE id is unchanged")
        return
    }
    print("BPE merges, compared by their bytes: \(comparison.sharedCount) of the \(oldCount) learned before are learned again"
        + (comparison.movedCount > 0 ? ", \(comparison.movedCount) of them at another place in the order (so with another id)" : ""))
    if !comparison.added.isEmpty {
        printWrapped("  new:     ", comparison.added.map { "[" + $0.label + "]" })
    }
    if !comparison.dropped.isEmpty {
        printWrapped("  dropped: ", comparison.dropped.map { "[" + $0.label + "]" })
    }
}

/// Encodes `text` with both tokenizers, decodes it again and compares the UTF-8 bytes.
func showEncoding(_ text: String, characterTokenizer: CharTokenizer, bpe: BPETokenizer) throws {
    let characterIDs = characterTokenizer.encode(text)
    let characterRoundTrip = try characterTokenizer.decode(characterIDs)
    let unknown = characterTokenizer.unknownScalars(in: text)
    print("Encoding \(literal(text)): " + unitCounts(text))
    print()

    let unknownCount = characterIDs.filter { $0 == CharTokenizer.unknownID }.count
    print("Character tokenizer: " + counted(characterIDs.count, "token") + ", \(unknownCount) of them [UNK]")
    printWrapped("  ids:     ", characterIDs.map(String.init))
    print("  decoded: " + literal(characterRoundTrip))
    if unknown.isEmpty {
        print("  round trip: the decoded UTF-8 bytes equal the input's")
    } else {
        print("  round trip: the bytes differ, because [UNK] stands for every scalar the training text lacked: "
              + unknown.map { printableLabel($0) + " " + codePoint($0) }.joined(separator: ", "))
    }
    print()

    let bpeIDs = bpe.encode(text)
    let bpeBytes = try bpe.decodeBytes(bpeIDs)
    print("BPE tokenizer: " + counted(bpeIDs.count, "token") + ", each in brackets (\\xHH is a byte that is only part of a character)")
    for line in bracketedTokens(bpeIDs, bpe: bpe) { print("  " + line) }
    printWrapped("  ids:     ", bpeIDs.map(String.init))
    print("  decoded: " + literal(try bpe.decode(bpeIDs)))
    print("  round trip: " + (bpeBytes == Array(text.utf8)
        ? "the decoded UTF-8 bytes equal the input's: any text is some sequence of bytes, so nothing is unknown"
        : "the bytes differ"))
}

/// Lists each Swift Character of `text` with its scalars, their UTF-8 bytes and character-tokenizer
/// ids, then the BPE tokens of the whole text.
func showUnits(_ text: String, characterTokenizer: CharTokenizer, bpe: BPETokenizer) throws {
    print("\(literal(text)): " + unitCounts(text))
    print()
    var table = Table(columns: ["#", Table.Column("Character", alignment: .left), Table.Column("scalar", alignment: .left),
                                Table.Column("name", alignment: .left), Table.Column("UTF-8 bytes", alignment: .left),
                                Table.Column("char id", alignment: .right)])
    for (index, character) in text.enumerated() {
        for (scalarIndex, scalar) in character.unicodeScalars.enumerated() {
            let isFirst = scalarIndex == 0
            table.addRow([
                isFirst ? "\(index + 1)" : "",
                isFirst ? characterLabel(character) : "",
                codePoint(scalar),
                scalar.properties.name ?? "",
                hexBytes(Array(String(scalar).utf8)),
                idLabel(characterTokenizer.encode(String(scalar))[0]),
            ])
        }
    }
    print(table)
    print()

    let ids = bpe.encode(text)
    print("BPE: " + counted(ids.count, "token") + ", each in brackets (\\xHH is a byte that is only part of a character):")
    for line in bracketedTokens(ids, bpe: bpe) { print("  " + line) }
}

/// Throws an error naming `--decode` when the chosen tokenizer cannot decode `ids`.
func checkDecodable(_ ids: [Int], with choice: TokenizerChoice, characterTokenizer: CharTokenizer, bpe: BPETokenizer) throws {
    do {
        switch choice {
        case .char: _ = try characterTokenizer.decode(ids)
        case .bpe: _ = try bpe.decode(ids)
        }
    } catch let error as TokenizerError {
        throw StepError("invalid --decode \(ids.map(String.init).joined(separator: ",")): \(error)")
    }
}

/// Decodes `ids` with the chosen tokenizer and shows each id's unit; `checkDecodable` must pass first.
func showDecoding(_ ids: [Int], with choice: TokenizerChoice, characterTokenizer: CharTokenizer, bpe: BPETokenizer) throws {
    switch choice {
    case .char:
        let text = try characterTokenizer.decode(ids)
        print("Decoding " + counted(ids.count, "id") + " with the character tokenizer (vocabulary size \(characterTokenizer.vocabSize)):")
        var table = Table(columns: ["id", Table.Column("scalar", alignment: .left), Table.Column("UTF-8 bytes", alignment: .left)])
        for id in ids {
            let scalar = try characterTokenizer.scalar(for: id)
            table.addRow(["\(id)", characterTokenizer.label(for: id), scalar.map { hexBytes(Array(String($0).utf8)) } ?? "(none: [UNK] decodes to U+FFFD)"])
        }
        print(table)
        print("text: " + literal(text))
    case .bpe:
        let text = try bpe.decode(ids)
        print("Decoding " + counted(ids.count, "id") + " with the BPE tokenizer (vocabulary size \(bpe.vocabSize)):")
        var table = Table(columns: ["id", Table.Column("token", alignment: .left), Table.Column("UTF-8 bytes", alignment: .left)])
        for id in ids {
            table.addRow(["\(id)", bpe.label(for: id), hexBytes(try bpe.bytes(for: id))])
        }
        print(table)
        print("text: " + literal(text) + (text.unicodeScalars.contains("\u{FFFD}") ? "  (U+FFFD marks bytes that are not valid UTF-8)" : ""))
    }
}

// MARK: - Printing

/// Returns a table of the character, scalar, byte and token counts of each text.
func countTable(_ texts: [String], characterTokenizer: CharTokenizer, bpe: BPETokenizer) -> Table {
    var table = Table(columns: [Table.Column("text", alignment: .left), "Characters", "scalars", "UTF-8 bytes",
                                "char tokens", "of them [UNK]", "BPE tokens"])
    for text in texts {
        let ids = characterTokenizer.encode(text)
        table.addRow([
            literal(text), "\(text.count)", "\(text.unicodeScalars.count)", "\(text.utf8.count)",
            "\(ids.count)", "\(ids.filter { $0 == CharTokenizer.unknownID }.count)", "\(bpe.encode(text).count)",
        ])
    }
    return table
}

/// Returns a table with one row per BPE token: position, id, printable token and its bytes.
func tokenTable(_ ids: [Int], bpe: BPETokenizer) -> Table {
    var table = Table(columns: ["#", "id", Table.Column("token", alignment: .left), Table.Column("UTF-8 bytes", alignment: .left)])
    for (index, id) in ids.enumerated() {
        table.addRow(["\(index + 1)", "\(id)", bpe.label(for: id), hexBytes((try? bpe.bytes(for: id)) ?? [])])
    }
    return table
}

/// Returns the tokens of `ids` as printable labels in brackets, wrapped into lines of about 76 columns.
func bracketedTokens(_ ids: [Int], bpe: BPETokenizer) -> [String] {
    wrapped(ids.map { "[" + bpe.label(for: $0) + "]" }, width: 76, separator: "")
}

/// Returns the Characters, Unicode scalars and UTF-8 bytes of `text` as one line.
func unitCounts(_ text: String) -> String {
    counted(text.count, "Character") + ", " + counted(text.unicodeScalars.count, "Unicode scalar") + ", "
        + counted(text.utf8.count, "UTF-8 byte")
}

/// Returns an id, with " [UNK]" after the unknown id.
func idLabel(_ id: Int) -> String {
    id == CharTokenizer.unknownID ? "0 [UNK]" : "\(id)"
}

/// Returns a code point as `U+XXXX`.
func codePoint(_ scalar: Unicode.Scalar) -> String {
    String(format: "U+%04X", scalar.value)
}

/// Returns a Character as it should appear in a table cell: itself, or a stand-in for invisible ones.
func characterLabel(_ character: Character) -> String {
    if character.unicodeScalars.count == 1 { return printableLabel(character.unicodeScalars.first!) }
    return String(character)
}

/// Returns `text` in quotes as a Swift string literal would write it: scalars that are invisible
/// or that join onto their neighbours (combining marks, joiners, variation selectors) as `\u{…}`.
func literal(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n": result += "\\n"
        case "\t": result += "\\t"
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        default:
            switch scalar.properties.generalCategory {
            case .nonspacingMark, .enclosingMark, .spacingMark, .format, .control, .lineSeparator, .paragraphSeparator:
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default:
                result.unicodeScalars.append(scalar)
            }
        }
    }
    return result + "\""
}

/// Returns `text` with each `\u{HEX}` replaced by the scalar it names.
/// - Throws: `StepError` naming `flag` when an escape is not a valid scalar.
func resolvingEscapes(_ text: String, flag: String) throws -> String {
    var result = String.UnicodeScalarView()
    var rest = Substring(text)
    while let start = rest.range(of: "\\u{") {
        result.append(contentsOf: rest[..<start.lowerBound].unicodeScalars)
        guard let end = rest[start.upperBound...].firstIndex(of: "}"),
              let value = UInt32(rest[start.upperBound..<end], radix: 16),
              let scalar = Unicode.Scalar(value) else {
            throw StepError("invalid \(flag) text \"\(text)\": an escape must be \\u{HEX} with the hexadecimal code of a Unicode scalar, as in \\u{301}. Fix or remove the escape.")
        }
        result.append(scalar)
        rest = rest[rest.index(after: end)...]
    }
    result.append(contentsOf: rest.unicodeScalars)
    return String(result)
}

/// Returns `items` joined by `separator` into lines of at most `width` columns; an item wider
/// than `width` gets a line of its own.
func wrapped(_ items: [String], width: Int, separator: String = " ") -> [String] {
    var lines: [String] = []
    var line = ""
    for item in items {
        let added = Terminal.displayWidth(of: separator) + Terminal.displayWidth(of: item)
        if !line.isEmpty && Terminal.displayWidth(of: line) + added > width {
            lines.append(line)
            line = ""
        }
        line += (line.isEmpty ? "" : separator) + item
    }
    if !line.isEmpty { lines.append(line) }
    return lines
}

/// Prints `items` separated by spaces after `label`, continuing long lines under the first item.
func printWrapped(_ label: String, _ items: [String]) {
    let indent = String(repeating: " ", count: label.count)
    for (index, line) in wrapped(items, width: 78 - label.count).enumerated() {
        print((index == 0 ? label : indent) + line)
    }
}

/// Returns `text` with every line indented by two spaces.
func indented(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
}

/// Throws an error naming the flag when the folder that would contain `path` does not exist.
func checkFolderExists(of path: String, flag: String) throws {
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw StepError("invalid \(flag) \(path): the folder \(folder) does not exist. Create it first or pass a path in an existing folder.")
    }
}

/// Writes `data` to `path`, or throws an error naming the flag and the path.
func write(_ data: Data, to path: String, flag: String) throws {
    do {
        try data.write(to: URL(fileURLWithPath: path))
    } catch {
        let reason = error.localizedDescription.trimmingCharacters(in: CharacterSet(charactersIn: "."))
        throw StepError("could not write \(flag) file \(path): \(reason). Check that the file is writable.")
    }
}

/// Returns `count` and the noun, plural unless the count is 1, as in "1 token" or "1,024 tokens".
func counted(_ count: Int, _ noun: String, plural: String? = nil) -> String {
    Format.grouped(count) + " " + (count == 1 ? noun : plural ?? noun + "s")
}
