import BigramStep
import StepKit
import Tensor

// Step 00: a table of logits, one row per character, trained to predict the next character.

runStepProgram {
    var flags = FlagParser(
        program: "Step00Bigram",
        summary: "Trains a bigram model, a table of logits with one row per current character, by gradient descent"
            + " on a text, prints P(next | current) beside the probabilities from counting, and generates text"
            + " from a start character.")
    let standard = flags.standardFlags()
    let steps = flags.int(
        "steps", default: 300, range: .atLeast(0),
        help: "gradient-descent steps, each on every (current, next) pair or, when the text has more than --batch-size pairs, on a random batch of them")
    let learningRate = flags.float("lr", default: 0.1, range: .above(0), help: "learning rate of AdamW")
    let batchSize = flags.int(
        "batch-size", default: 16_384, range: .atLeast(1),
        help: "(current, next) pairs per step; a text with at most this many pairs trains on all of them in every step")
    let start = flags.optionalString("start", help: "text to generate after; only its last character matters (default: the first character of the text)")
    let length = flags.int("length", default: 40, range: .atLeast(0), help: "number of characters to generate")
    let sample = flags.bool("sample", help: "draw each next character from P(next | current) with --seed instead of taking the most likely")
    let tableSize = flags.int(
        "table-size", default: 8, range: .between(1, 30),
        help: "the probability tables show this many of the most frequent characters when the text has more")
    let memoryDemo = flags.bool(
        "memory-demo",
        help: "train on a made-up text where each character is fixed by the one two places back, and compare the loss with what one and two characters of context allow")
    try flags.parse(CommandLine.arguments.dropFirst())

    if memoryDemo.value {
        guard standard.text.value == nil && standard.textFile.value == nil else {
            throw StepError("--memory-demo trains on a text it makes itself, so it takes no --text or --text-file. Run it alone, as in --memory-demo --steps 300.")
        }
        runMemoryDemo(steps: steps.value, learningRate: learningRate.value)
        return
    }

    // 1. The text and its vocabulary.
    let corpus = try standard.loadCorpus()
    let vocabulary = try BigramVocabulary(text: corpus.text)
    let ids = try vocabulary.ids(for: corpus.text)
    let startText = start.value ?? String(corpus.text.unicodeScalars.first!)
    let startIDs = try startCharacterIDs(startText, vocabulary: vocabulary)
    print("Text: \(corpus.summary)")
    print("Vocabulary: " + counted(vocabulary.size, "distinct character") + (vocabulary.size <= 30 ? ": " + labels(vocabulary).joined(separator: " ") : ""))
    print("Pairs: " + counted(ids.count - 1, "(current, next) pair") + " to learn from")
    print()

    // 2. Training, and the minimum loss from counting.
    let model = BigramModel(vocabulary: vocabulary)
    var generator = SeededGenerator(seed: standard.seed.value)
    let losses = model.train(
        on: ids, steps: steps.value, learningRate: learningRate.value, batchSize: batchSize.value, generator: &generator)
    let counts = BigramCounts(ids: ids, vocabularySize: vocabulary.size)
    let batch = ids.count - 1 <= batchSize.value ? "all pairs in every step" : counted(batchSize.value, "random pair") + " per step"
    print("Training the \(vocabulary.size)×\(vocabulary.size) table of logits: " + counted(steps.value, "step") + ", \(batch), AdamW, lr \(learningRate.value)")
    if !losses.isEmpty { print("loss per step   \(Sparkline(losses, width: 50))") }
    print("trained loss                          " + Format.fixed(model.meanLoss(on: ids), digits: 4) + " nats")
    print("count-based loss = H(next | current)  " + Format.fixed(counts.conditionalEntropy, digits: 4) + " nats")
    print()

    // 3. The two probability tables side by side.
    let shownIDs = mostFrequentIDs(ids, vocabularySize: vocabulary.size, limit: tableSize.value)
    printProbabilityTables(model: model, counts: counts, shownIDs: shownIDs)
    print()

    // 4. Generation from the start character.
    let generated: [Int]
    if sample.value {
        generated = model.generate(after: startIDs.last!, length: length.value, generator: &generator)
        print("Generated " + counted(length.value, "character") + " after \(quote(startText)), each drawn from P(next | current) with seed \(standard.seed.value):")
    } else {
        generated = model.generate(after: startIDs.last!, length: length.value)
        print("Generated " + counted(length.value, "character") + " after \(quote(startText)), each the most likely next character:")
    }
    if startIDs.count > 1 {
        print("(only the last character, \(quote(vocabulary.text(for: [startIDs.last!]))), decides what comes next)")
    }
    print(escapingLineBreaks(startText + vocabulary.text(for: generated)))
}

// MARK: - Experiments

/// Trains on `TwoBackText` and prints the trained loss beside the entropies that one and two
/// characters of context allow.
func runMemoryDemo(steps: Int, learningRate: Float) {
    // 24 · 10 + 1 characters give 240 pairs, ten whole periods, so the counts are exactly even.
    let text = TwoBackText.make(length: 241)
    let vocabulary = try! BigramVocabulary(text: text)
    let ids = try! vocabulary.ids(for: text)
    let model = BigramModel(vocabulary: vocabulary)
    _ = model.train(on: ids, steps: steps, learningRate: learningRate)

    let even = TwoBackText.evenCycle.map { String($0) }
    let odd = TwoBackText.oddCycle.map { String($0) }
    print("Memory demo: every character is the successor of the character two places before it.")
    print("Even positions cycle " + (even + [even[0]]).joined(separator: "→") + ", odd positions cycle " + (odd + [odd[0]]).joined(separator: "→") + ".")
    print("Text (\(text.unicodeScalars.count) characters): " + String(text.prefix(48)) + "…")
    print()

    var table = Table(columns: ["quantity", "nats", Table.Column("meaning", alignment: .left)])
    table.addRow(["trained bigram loss (" + counted(steps, "step") + ")", Format.fixed(model.meanLoss(on: ids), digits: 4), "what gradient descent reached"])
    table.addRow(["H(next | current), counted", Format.fixed(conditionalEntropy(of: ids, contextLength: 1), digits: 4), "the floor for any model that sees one character"])
    table.addRow(["H(next | previous two), counted", Format.fixed(conditionalEntropy(of: ids, contextLength: 2), digits: 4), "reachable by a model that sees two characters"])
    print(table)
    print()

    let counts = BigramCounts(ids: ids, vocabularySize: vocabulary.size)
    let rows = ["a", "x"].map { vocabulary.id(of: Unicode.Scalar($0)!)! }
    printProbabilityTables(model: model, counts: counts, shownIDs: Array(0..<vocabulary.size), rowIDs: rows)
    print()

    let continuation = model.generate(after: ids[0], length: 23)
    print("The text continues:        " + String(text.prefix(24)))
    print("The bigram model's argmax: " + vocabulary.text(for: [ids[0]] + continuation))
}

// MARK: - Printing

/// Returns the display label of every vocabulary character, with a space shown as "␣".
func labels(_ vocabulary: BigramVocabulary) -> [String] {
    vocabulary.scalars.map { Format.visible(String($0)) }
}

/// Returns `text` with line breaks and tabs written as `\n` and `\t`, so generated text stays on one line.
func escapingLineBreaks(_ text: String) -> String {
    text.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\t", with: "\\t")
}

/// Returns `text` in quotes with invisible characters made visible.
func quote(_ text: String) -> String {
    "\"" + Format.visible(text) + "\""
}

/// Returns the ids of the `limit` most frequent characters of `ids` (ties go to the smaller id),
/// or every id in order when the vocabulary has at most `limit` characters.
func mostFrequentIDs(_ ids: [Int], vocabularySize: Int, limit: Int) -> [Int] {
    guard vocabularySize > limit else { return Array(0..<vocabularySize) }
    var frequency = [Int](repeating: 0, count: vocabularySize)
    for id in ids { frequency[id] += 1 }
    let ranked = (0..<vocabularySize).sorted { frequency[$0] != frequency[$1] ? frequency[$0] > frequency[$1] : $0 < $1 }
    return Array(ranked.prefix(limit))
}

/// Prints the trained model's P(next | current) beside the counted one, for the characters
/// `shownIDs` as columns and `rowIDs` (default: the same characters) as rows.
func printProbabilityTables(model: BigramModel, counts: BigramCounts, shownIDs: [Int], rowIDs requestedRowIDs: [Int]? = nil) {
    let vocabulary = model.vocabulary
    let rowIDs = requestedRowIDs ?? shownIDs
    let isPartial = shownIDs.count < vocabulary.size
    let digits = shownIDs.count <= 5 ? 3 : 2

    let trained = rowIDs.map { current -> [String] in
        let probabilities = model.probabilities(after: current)
        return shownIDs.map { Format.fixed(probabilities[$0], digits: digits) }
    }
    let fromCounts = rowIDs.map { current -> [String] in
        guard let probabilities = counts.probabilities(after: current) else { return shownIDs.map { _ in "—" } }
        return shownIDs.map { Format.fixed(probabilities[$0], digits: digits) }
    }
    let pairsNote = rowIDs.map { current -> String in
        let total = counts.total(after: current)
        return total == 0 ? "never followed by a character" : counted(total, "pair")
    }

    print("P(next | current): one row per current character, one column per next character")
    if isPartial {
        print("(the \(shownIDs.count) most frequent of \(vocabulary.size) characters, so a row's shown values need not sum to 1)")
    }
    let left = matrixLines(title: "trained model", rowIDs: rowIDs, columnIDs: shownIDs, cells: trained, vocabulary: vocabulary)
    let right = matrixLines(title: "counted: row counts ÷ row total", rowIDs: rowIDs, columnIDs: shownIDs, cells: fromCounts, vocabulary: vocabulary)
    let leftWidth = left.map { Terminal.displayWidth(of: $0) }.max() ?? 0
    for (index, line) in left.enumerated() {
        let padding = String(repeating: " ", count: leftWidth - Terminal.displayWidth(of: line))
        let note = index >= 2 ? "   " + pairsNote[index - 2] : ""
        print(line + padding + "    " + right[index] + note)
    }
}

/// Returns a small labelled matrix: a title line, a header of column labels and one line per row.
func matrixLines(title: String, rowIDs: [Int], columnIDs: [Int], cells: [[String]], vocabulary: BigramVocabulary) -> [String] {
    let label = { (id: Int) in Format.visible(vocabulary.text(for: [id])) }
    let cellWidth = max(cells.joined().map { Terminal.displayWidth(of: $0) }.max() ?? 1, 1)
    let rowLabelWidth = rowIDs.map { Terminal.displayWidth(of: label($0)) }.max() ?? 1

    func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - Terminal.displayWidth(of: text))) + text
    }

    var lines = [title]
    lines.append(String(repeating: " ", count: rowLabelWidth) + columnIDs.map { " " + pad(label($0), cellWidth) }.joined())
    for (index, current) in rowIDs.enumerated() {
        let labelText = label(current) + String(repeating: " ", count: rowLabelWidth - Terminal.displayWidth(of: label(current)))
        lines.append(labelText + cells[index].map { " " + pad($0, cellWidth) }.joined())
    }
    return lines
}

/// Returns the ids of the start text, or throws an error that names `--start` and the vocabulary.
func startCharacterIDs(_ text: String, vocabulary: BigramVocabulary) throws -> [Int] {
    guard !text.isEmpty else {
        throw StepError("--start is empty, but generation needs a character to start from. Pass one, as in --start a.")
    }
    do {
        return try vocabulary.ids(for: text)
    } catch let error as BigramError {
        throw StepError("invalid --start \(quote(text)): " + error.description)
    }
}

/// Returns `count` and the noun, plural unless the count is 1, as in "1 token" or "1,024 tokens".
func counted(_ count: Int, _ noun: String, plural: String? = nil) -> String {
    Format.grouped(count) + " " + (count == 1 ? noun : plural ?? noun + "s")
}
