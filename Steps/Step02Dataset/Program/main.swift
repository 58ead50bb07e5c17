import DatasetStep
import Foundation
import StepKit
import Tensor
import TokenizerStep

// Step 02: turn a text into (inputs, targets) batches by shifting it one token, and count how many
// training examples a text holds.

runStepProgram {
    var flags = FlagParser(
        program: "Step02Dataset",
        summary: "Encodes the corpus with the character tokenizer of step 01, splits it into training and validation"
            + " parts, draws a random batch of windows, prints one (x, y) pair as ids, arrows and characters,"
            + " lists the examples one window holds, and counts the examples in the text.")
    let standard = flags.standardFlags()
    let blockSize = flags.int("block-size", default: 8, range: .atLeast(1), help: "tokens of context in each input sequence, T")
    let batchSize = flags.int("batch-size", default: 4, range: .atLeast(1), help: "sequences drawn per batch, B")
    let valFraction = flags.double(
        "val-fraction", default: 0.1, range: .atLeast(0, below: 1),
        help: "share of the tokens, taken from the end of the text, kept for validation")
    try flags.parse(CommandLine.arguments.dropFirst())

    let corpus = try standard.loadCorpus()
    let tokenizer = try CharTokenizer(training: corpus.text)
    let ids = tokenizer.encode(corpus.text)
    let dataset = try TokenDataset(ids: ids, valFraction: valFraction.value)
    let T = blockSize.value

    // The validation split is checked too, because the training programs from step 04 on measure loss on it.
    try TokenDataset.checkSplit(dataset.train, blockSize: T, splitName: "training")
    if valFraction.value > 0 {
        try TokenDataset.checkSplit(dataset.validation, blockSize: T, splitName: "validation")
    }

    print("Corpus: \(corpus.summary), " + counted(ids.count, "token") + ", vocabulary of " + counted(tokenizer.vocabSize, "id"))
    print("Split (--val-fraction \(Format.significant(valFraction.value))): training " + counted(dataset.train.count, "token")
        + ", validation " + counted(dataset.validation.count, "token"))
    print()

    // 1. A random batch: B windows of T + 1 tokens, each cut into inputs and targets.
    var generator = SeededGenerator(seed: standard.seed.value)
    let starts = try TokenDataset.randomStarts(
        count: batchSize.value, tokenCount: dataset.train.count, blockSize: T, generator: &generator)
    let batch = TokenDataset.batch(from: dataset.train, starts: starts, blockSize: T)

    print("A batch of " + counted(batch.batchSize, "window") + " from the training split (--seed \(standard.seed.value)):"
        + " inputs and targets both have shape \(batch.shape)")
    var table = Table(columns: ["row", "start", Table.Column("inputs x", alignment: .left), Table.Column("targets y", alignment: .left)])
    let shownRows = min(batch.batchSize, 8)
    for b in 0..<shownRows {
        table.addRow([
            "\(b)", Format.grouped(starts[b]),
            batch.inputRow(b).map(String.init).joined(separator: " "),
            batch.targetRow(b).map(String.init).joined(separator: " "),
        ])
    }
    print(table)
    if batch.batchSize > shownRows {
        print("… " + counted(batch.batchSize - shownRows, "more row"))
    }
    print()

    // 2. One (x, y) pair as ids and as characters, each position in its own aligned column.
    let x = Array(batch.inputRow(0))
    let y = Array(batch.targetRow(0))
    print("One (x, y) pair, row 0: tokens \(Format.grouped(starts[0])) to \(Format.grouped(starts[0] + T)) of the training split")
    let lines = arrowLines([
        ("x (ids)", x.map(String.init)),
        ("y (ids)", y.map(String.init)),
        ("x (text)", x.map(tokenizer.label(for:))),
        ("y (text)", y.map(tokenizer.label(for:))),
    ])
    lines.forEach { print($0) }
    if T > 1 {
        let shifted = (0..<(T - 1)).allSatisfy { y[$0] == x[$0 + 1] }
        print("y is x moved one token to the left: y[t] = x[t + 1] for t < \(T - 1) (\(shifted ? "true" : "false") here),")
        print("and y[\(T - 1)] = \(y[T - 1]) is the token that follows the window.")
    } else {
        print("With block size 1, y[0] = \(y[0]) is simply the token after x[0] = \(x[0]).")
    }
    print()

    // 3. The examples inside that one window.
    print("Row 0 holds " + counted(T, "training example") + ", one per position t: the context x[0…t] and the target y[t]")
    let examples = batch.examples(row: 0)
    let contexts = examples.map { "context [" + $0.context.map(String.init).joined(separator: ", ") + "]" }
    let contextWidth = contexts.map(Terminal.displayWidth(of:)).max() ?? 0
    let targetWidth = examples.map { "\($0.target)".count }.max() ?? 0
    for (t, example) in examples.enumerated() {
        let text = example.context.map(tokenizer.label(for:)).joined()
        print("  t=\(t)  " + padRight(contexts[t], contextWidth) + " → target " + padRight("\(example.target)", targetWidth)
            + "    \"\(text)\" → \"\(tokenizer.label(for: example.target))\"")
    }
    print()

    // 4. How many examples a text of N tokens gives, for each split.
    print("How many training examples does a text of N tokens give? (block size \(T))")
    var counts = Table(columns: [
        Table.Column("part", alignment: .left), "tokens N", Table.Column("windows (N − \(T))"),
        Table.Column("examples ((N − \(T)) · \(T))"), "targets (N − 1)",
    ])
    let parts: [(String, Int)] = [
        ("training", dataset.train.count), ("validation", dataset.validation.count), ("whole text", ids.count),
    ]
    for (name, count) in parts {
        counts.addRow([
            name, Format.grouped(count),
            Format.grouped(TokenDataset.windowCount(tokenCount: count, blockSize: T)),
            Format.grouped(TokenDataset.windowExampleCount(tokenCount: count, blockSize: T)),
            Format.grouped(TokenDataset.contextTargetPairCount(tokenCount: count)),
        ])
    }
    print(counts)
    let trainWindows = TokenDataset.windowCount(tokenCount: dataset.train.count, blockSize: T)
    print("- A window of block size + 1 = \(T + 1) tokens can start at 0, 1, …, N − \(T + 1): that is N − \(T) windows.")
    print("- Each window holds " + counted(T, "example") + ", one per position, so the windows hold (N − \(T)) · \(T) examples in all.")
    if T == 1 {
        print("- With block size 1 each target appears in one window only, after a context of one token. Every token")
        print("  except the first is the target of the token before it, so N tokens give N − 1 targets: N − 1 different")
    } else {
        print("- Most targets appear in several windows, after contexts of different lengths. Every token except")
        print("  the first is the target of the tokens before it, so N tokens give N − 1 targets: N − 1 different")
    }
    print("  (context, target) pairs when each target keeps its longest context of up to " + counted(T, "token") + ".")
    print("- No labels were added: the targets are the text itself, moved by one token.")
    if trainWindows == 1 {
        print("- The training split holds exactly 1 window, so every row of every batch is that window.")
    } else {
        let distinctBatches = pow(Double(trainWindows), Double(batch.batchSize))
        print("- Drawing \(batch.batchSize) of the \(Format.grouped(trainWindows)) training windows at random gives"
            + " \(Format.grouped(trainWindows))^\(batch.batchSize) = \(Format.significant(distinctBatches, digits: 3)) possible batches.")
    }
}

// MARK: - Printing

/// Returns one line per labelled row of cells, with each column padded to its widest cell and "→"
/// between columns, so that the cells of one position stand under each other.
func arrowLines(_ rows: [(label: String, cells: [String])]) -> [String] {
    let labelWidth = rows.map { $0.label.count + 1 }.max() ?? 0
    let columnCount = rows.map(\.cells.count).max() ?? 0
    var widths = [Int](repeating: 0, count: columnCount)
    for row in rows {
        for (column, cell) in row.cells.enumerated() {
            widths[column] = max(widths[column], Terminal.displayWidth(of: cell))
        }
    }
    return rows.map { row in
        let cells = row.cells.enumerated().map { padLeft($0.element, widths[$0.offset]) }
        return padRight(row.label + ":", labelWidth) + " " + cells.joined(separator: " → ")
    }
}

/// Pads `text` with spaces on the left to `width` terminal columns.
func padLeft(_ text: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - Terminal.displayWidth(of: text))) + text
}

/// Pads `text` with spaces on the right to `width` terminal columns.
func padRight(_ text: String, _ width: Int) -> String {
    text + String(repeating: " ", count: max(0, width - Terminal.displayWidth(of: text)))
}

/// Returns `count` and the noun, plural unless the count is 1, as in "1 token" or "1,024 tokens".
func counted(_ count: Int, _ noun: String, plural: String? = nil) -> String {
    Format.grouped(count) + " " + (count == 1 ? noun : plural ?? noun + "s")
}
