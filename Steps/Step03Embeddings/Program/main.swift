import DatasetStep
import EmbeddingsStep
import Foundation
import StepKit
import Tensor
import TokenizerStep

// Step 03: token ids become learned vectors, and a learned position vector is added to each.

runStepProgram {
    var flags = FlagParser(
        program: "Step03Embeddings",
        summary: "Looks up the token and position vectors of a batch's first tokens, compares the vectors of close"
            + " and far ids, and shows what changes without position vectors (--no-positions). With --train-steps N"
            + " it trains a bigram-like model (embeddings and a linear head) and compares the vectors again.")
    let standard = flags.standardFlags()
    let blockSize = flags.int("block-size", default: 8, range: .atLeast(2), help: "tokens per input sequence, T, and rows of the position table")
    let batchSize = flags.int("batch-size", default: 4, range: .atLeast(1), help: "sequences per batch, B, for the batch shown and for training")
    let embedDim = flags.int("embed-dim", default: 32, range: .atLeast(1), help: "length of every token and position vector, C")
    let valFraction = flags.double(
        "val-fraction", default: 0.1, range: .atLeast(0, below: 1),
        help: "share of the tokens kept for validation; the batch comes from the rest")
    let positions = flags.bool("positions", default: true, help: "add a learned position vector to each token vector")
    let tokenID = flags.optionalInt(
        "id", range: .atLeast(0), help: "token id n of the similarity table, which compares it with n + 1 and a far id; without it n is x[0, 0]")
    let trainSteps = flags.int(
        "train-steps", default: 0, range: .atLeast(0),
        help: "steps of training a bigram-like model on the embeddings before comparing the vectors again")
    let learningRate = flags.float("lr", default: 0.01, range: .above(0), help: "AdamW learning rate of --train-steps")
    try flags.parse(CommandLine.arguments.dropFirst())

    let corpus = try standard.loadCorpus()
    let tokenizer = try CharTokenizer(training: corpus.text)
    let ids = tokenizer.encode(corpus.text)
    let dataset = try TokenDataset(ids: ids, valFraction: valFraction.value)
    let T = blockSize.value, C = embedDim.value, V = tokenizer.vocabSize
    if let id = tokenID.value, id >= V {
        throw StepError(
            invalid: "--id", value: "\(id)", rule: "the vocabulary of this text has ids 0 to \(V - 1)",
            fix: "Pass an id below \(V), or leave out --id to use x[0, 0].")
    }

    // The batch and the shuffled order are drawn before the tables, and the token table before the
    // position table, so --no-positions changes none of them.
    var generator = SeededGenerator(seed: standard.seed.value)
    let batch = try TokenDataset.randomBatch(
        from: dataset.train, batchSize: batchSize.value, blockSize: T, generator: &generator)
    let order = shuffledOrder(count: T, generator: &generator)
    let embedding = TokenAndPositionEmbedding(
        vocabSize: V, blockSize: T, embedDim: C, usePositions: positions.value, generator: &generator)
    let x = Array(batch.inputRow(0))
    func name(_ id: Int) -> String { "\(id) \"\(tokenizer.label(for: id))\"" }

    print("Corpus: \(corpus.summary), vocabulary of " + counted(V, "id"))
    print("Tables: token [\(V), \(C)]" + (positions.value ? ", position [\(T), \(C)]" : ", no position table (--no-positions)")
        + ", values drawn from normal(0, 0.02) with --seed \(standard.seed.value)")
    print("Batch x has shape \(batch.shape); x[0, 0] = \(name(x[0])) and x[0, 1] = \(name(x[1]))")
    print()

    // 1. The vectors of x[0, 0] and x[0, 1], their position vectors, and what the layer outputs.
    let shownDims = min(C, 8)
    let rowOutput = Tensor.withoutGradients { embedding(x, shape: [1, T]) }
    print(shownDims < C ? "The first \(shownDims) of \(C) dimensions of each vector:" : "The " + counted(C, "dimension") + " of each vector:")
    var vectors: [(String, [Float])] = [("tok[\(x[0])]", embedding.tokenVector(x[0])), ("tok[\(x[1])]", embedding.tokenVector(x[1]))]
    if let position0 = embedding.positionVector(0), let position1 = embedding.positionVector(1) {
        vectors += [("pos[0]", position0), ("pos[1]", position1)]
    }
    vectors += [("output t=0", vector(rowOutput, row: 0)), ("output t=1", vector(rowOutput, row: 1))]
    print(vectorTable(vectors, dims: shownDims))
    if positions.value {
        print("output t=0 = tok[\(x[0])] + pos[0] and output t=1 = tok[\(x[1])] + pos[1]: the layer adds the two rows.")
    } else {
        print("Without a position table the output is the token row itself.")
    }
    print()

    // 2. Close ids do not give close vectors.
    let n = tokenID.value ?? x[0]
    // A tiny vocabulary can make the far id equal to n ± 1, so repeats are dropped.
    var compared: [Int] = []
    for id in [n, n + 1 < V ? n + 1 : n - 1, (n + V / 2) % V] where !compared.contains(id) {
        compared.append(id)
    }
    print("Do close ids get close vectors? Cosine similarity of token rows (1 = same direction, 0 = unrelated):")
    print(similarityTable(compared, embedding: embedding, tokenizer: tokenizer))
    printSimilarityNote(compared, embedding: embedding)
    print()

    // 3. The same token at two positions.
    let pair = Tensor.withoutGradients { embedding([n, n], shape: [1, 2]) }
    let first = vector(pair, row: 0), second = vector(pair, row: 1)
    print("The same token \(name(n)) at positions 0 and 1, " + (shownDims < C ? "first \(shownDims) dimensions:" : counted(C, "dimension") + ":"))
    print(vectorTable([("t=0", first), ("t=1", second)], dims: shownDims))
    if first == second {
        print("The two vectors are identical: without positions they carry no hint of where a token stands.")
    } else {
        print("The two vectors differ (cosine \(Format.fixed(cosineSimilarity(first, second), digits: 3))):"
            + " pos[0] and pos[1] mark where the token stands. Run with --no-positions to remove them.")
    }
    print()

    // 4. Shuffling the input.
    let shuffled = order.map { x[$0] }
    let shuffledOutput = Tensor.withoutGradients { embedding(shuffled, shape: [1, T]) }
    print("Shuffle row x[0]: shuffled[t] = x[0, from[t]]. Does the output only get reordered the same way?")
    var table = Table(columns: [
        "t", Table.Column("x[0, t]", alignment: .left), Table.Column("output[t] (first 3)", alignment: .left),
        "from[t]", Table.Column("shuffled[t]", alignment: .left), Table.Column("shuffled output[t] (first 3)", alignment: .left),
        Table.Column("= output[from[t]]", alignment: .left),
    ])
    var reorderedRows = 0
    for t in 0..<T {
        let original = vector(rowOutput, row: t)
        let moved = vector(shuffledOutput, row: t)
        let matches = moved == vector(rowOutput, row: order[t])
        if matches { reorderedRows += 1 }
        table.addRow([
            "\(t)", name(x[t]), numbers(original, count: 3), "\(order[t])", name(shuffled[t]),
            numbers(moved, count: 3), matches ? "yes" : "no",
        ])
    }
    print(table)
    if reorderedRows == T {
        print("All \(T) rows match: shuffling the input only shuffled the output, so the vectors carry no order.")
    } else {
        print("\(T - reorderedRows) of \(T) rows " + (T - reorderedRows == 1 ? "does" : "do") + " not match: a token's vector depends on its position,"
            + " so the order of the input is part of the output.")
    }

    // 5. Optional: train, then compare the vectors again.
    guard trainSteps.value > 0 else {
        print()
        print("Run with --train-steps 1000 --batch-size 32 to train the vectors and see which tokens become similar.")
        return
    }
    print()
    let model = EmbeddingBigramModel(embedding: embedding, generator: &generator)
    let progress = ProgressBar(total: trainSteps.value, label: "training")
    let losses = try trainEmbeddingBigram(
        model, on: dataset.train, steps: trainSteps.value, batchSize: batchSize.value, blockSize: T,
        learningRate: learningRate.value, generator: &generator
    ) { step, loss in
        progress.update(step, status: "loss " + Format.fixed(loss, digits: 3))
    }
    progress.finish()
    print("Trained a bigram-like model (embeddings, then one linear layer to \(V) logits) for " + counted(trainSteps.value, "step") + ","
        + " batch \(batchSize.value) × \(T), lr \(Format.significant(learningRate.value)):")
    print("loss \(Sparkline(losses, width: 50).bars)  " + lossTrend(losses))
    print()
    print("Cosine similarity of the same token rows after training:")
    print(similarityTable(compared, embedding: embedding, tokenizer: tokenizer))
    print("All pairs of rows (i, j) after training:")
    print(cosineSummaryTable(embedding: embedding))
    print()
    // A rare token's row is trained on a handful of examples, so its similarities say little.
    // Short texts lower the bar, so that some tokens remain.
    let minimumCount = min(10, max(1, dataset.train.count / (4 * V)))
    var counts = [Int](repeating: 0, count: V)
    for id in dataset.train { counts[id] += 1 }
    let rare = (0..<V).filter { counts[$0] < minimumCount }
    let times = minimumCount == 1 ? "once" : "\(minimumCount) times"
    print("The most similar tokens after training, among tokens seen at least \(times) in the training split:")
    var neighbours = Table(columns: [
        Table.Column("token", alignment: .left), Table.Column("1st", alignment: .left),
        Table.Column("2nd", alignment: .left), Table.Column("3rd", alignment: .left),
    ])
    for id in neighbourQueries(compared: compared, tokenizer: tokenizer) {
        let nearest = nearestTokens(to: id, in: embedding.tokenEmbedding.weight, count: 3, excluding: rare)
        let cells = nearest.map { name($0.id) + " " + Format.fixed($0.similarity, digits: 2) }
        neighbours.addRow([name(id)] + cells + Array(repeating: "", count: 3 - cells.count))
    }
    print(neighbours)
    print("Tokens followed by similar tokens get similar vectors, whatever their ids.")
}

// MARK: - Printing

/// Returns the mean loss of the first and of the last steps, up to 20 each and never the same step twice.
func lossTrend(_ losses: [Float]) -> String {
    guard losses.count >= 2 else { return "loss of the one step " + Format.fixed(losses[0], digits: 3) }
    let window = min(20, losses.count / 2)
    let startLoss = losses.prefix(window).reduce(0, +) / Float(window)
    let endLoss = losses.suffix(window).reduce(0, +) / Float(window)
    let steps = window == 1 ? "step" : "\(window) steps"
    return "mean of the first \(steps) \(Format.fixed(startLoss, digits: 3)), of the last \(steps) \(Format.fixed(endLoss, digits: 3))"
}

/// Returns row `row` of the last axis of a `[1, T, C]` tensor.
func vector(_ tensor: Tensor, row: Int) -> [Float] {
    let width = tensor.shape[tensor.rank - 1]
    return Array(tensor.data[(row * width)..<((row + 1) * width)])
}

/// Returns the first `count` values with four decimals, separated by spaces.
func numbers(_ values: [Float], count: Int) -> String {
    values.prefix(count).map { value -> String in
        let text = Format.fixed(value, digits: 4)
        return String(repeating: " ", count: max(0, 7 - text.count)) + text
    }.joined(separator: " ")
}

/// Returns a table with one column per named vector and one row per dimension.
func vectorTable(_ vectors: [(String, [Float])], dims: Int) -> Table {
    var table = Table(columns: [Table.Column("dim")] + vectors.map { Table.Column($0.0, alignment: .right) })
    for d in 0..<dims {
        table.addRow(["\(d)"] + vectors.map { Format.fixed($0.1[d], digits: 4) })
    }
    return table
}

/// Returns the cosine similarity of every pair of token rows in `ids`, with each row's length.
func similarityTable(_ ids: [Int], embedding: TokenAndPositionEmbedding, tokenizer: CharTokenizer) -> Table {
    var table = Table(columns: [
        "id", Table.Column("token", alignment: .left), Table.Column("length ‖v‖")
    ] + ids.map { Table.Column("cos with \($0)") })
    for a in ids {
        let row = embedding.tokenVector(a)
        table.addRow(
            ["\(a)", tokenizer.label(for: a), Format.fixed(euclideanNorm(row), digits: 4)]
                + ids.map { Format.fixed(cosineSimilarity(row, embedding.tokenVector($0)), digits: 3) })
    }
    return table
}

/// Prints the cosine similarity of ids[0] with ids[1] and with ids[2], then the summary of all
/// pairs of the table at id distance 1 and at half the vocabulary or more. It ends with how many
/// standard errors apart the two means are, and what chance alone allows.
func printSimilarityNote(_ ids: [Int], embedding: TokenAndPositionEmbedding) {
    guard ids.count == 3 else {
        print("This vocabulary has too few ids to compare close and far ones; use a longer --text.")
        return
    }
    let near = cosineSimilarity(embedding.tokenVector(ids[0]), embedding.tokenVector(ids[1]))
    let far = cosineSimilarity(embedding.tokenVector(ids[0]), embedding.tokenVector(ids[2]))
    print("Ids \(ids[0]) and \(ids[1]) differ by 1 and ids \(ids[0]) and \(ids[2]) by \(abs(ids[2] - ids[0])):"
        + " cosines \(Format.fixed(near, digits: 3)) and \(Format.fixed(far, digits: 3)).")
    print("One pair proves little, so here are all pairs of rows (i, j) of the table:")
    print(cosineSummaryTable(embedding: embedding))
    let (neighbours, distant) = neighbourAndFarSummaries(embedding: embedding)
    guard neighbours.pairCount > 0 && distant.pairCount > 0 else { return }

    // The standard error of the difference of two independent means is √(se₁² + se₂²).
    let difference = neighbours.mean - distant.mean
    let standardError = (neighbours.standardError * neighbours.standardError
        + distant.standardError * distant.standardError).squareRoot()
    let distance = abs(difference) / standardError
    var note = "The means differ by \(Format.fixed(difference, digits: 3)). The standard error of that difference is"
        + " √(\(Format.fixed(neighbours.standardError, digits: 3))² + \(Format.fixed(distant.standardError, digits: 3))²)"
        + " = \(Format.fixed(standardError, digits: 3)), so the means are \(Format.fixed(distance, digits: 1)) standard errors apart."
        + " Every row was drawn on its own and the id only picks the row, so every pair has the same expected cosine, 0."
    if distance <= 2 {
        note += " Chance alone puts two means up to about 2 standard errors apart: neighbouring ids are no more alike than far ones."
    } else {
        note += " Here neighbouring ids come out " + (difference < 0 ? "less" : "more") + " alike."
            + " Chance alone puts two means more than 2 standard errors apart in about 1 draw in 20, and other seeds land on either side."
    }
    printParagraph(note + " The row lengths ‖v‖ do not grow with the id either.")
}

/// Returns the cosine summary of all neighbouring ids and of all ids at least half the vocabulary apart.
func cosineSummaryTable(embedding: TokenAndPositionEmbedding) -> Table {
    let (neighbours, distant) = neighbourAndFarSummaries(embedding: embedding)
    let far = max(2, embedding.vocabSize / 2)
    var summary = Table(columns: [
        Table.Column("pairs", alignment: .left), "count", "mean cosine", "standard deviation", "standard error of the mean",
    ])
    for (name, result) in [("neighbouring ids, j − i = 1", neighbours), ("far ids, j − i ≥ \(far)", distant)] {
        summary.addRow([
            name, Format.grouped(result.pairCount), Format.fixed(result.mean, digits: 3),
            Format.fixed(result.standardDeviation, digits: 3), Format.fixed(result.standardError, digits: 3),
        ])
    }
    return summary
}

/// Returns the cosine summaries of all neighbouring ids (j − i = 1) and of all ids at least half
/// the vocabulary apart.
func neighbourAndFarSummaries(embedding: TokenAndPositionEmbedding) -> (neighbours: CosineSummary, far: CosineSummary) {
    let table = embedding.tokenEmbedding.weight
    let far = max(2, embedding.vocabSize / 2)
    return (
        cosineSummary(of: table, idDistances: 1...1),
        cosineSummary(of: table, idDistances: far...max(far, embedding.vocabSize))
    )
}

/// Returns the tokens whose nearest neighbours are listed after training: the compared ids, then the
/// vowels a, e, o, the comma and the space when the vocabulary has them.
func neighbourQueries(compared: [Int], tokenizer: CharTokenizer) -> [Int] {
    var queries = compared
    for text in ["a", "e", "o", ",", " "] {
        let id = tokenizer.encode(text)[0]
        if id != CharTokenizer.unknownID && !queries.contains(id) { queries.append(id) }
    }
    return queries
}

/// Prints `text` in lines of at most 100 columns, broken at spaces.
func printParagraph(_ text: String) {
    var line = ""
    for word in text.split(separator: " ") {
        if !line.isEmpty && Terminal.displayWidth(of: line) + 1 + Terminal.displayWidth(of: String(word)) > 100 {
            print(line)
            line = ""
        }
        line += (line.isEmpty ? "" : " ") + word
    }
    if !line.isEmpty { print(line) }
}

/// Returns a random order of 0..<count (Fisher–Yates with `generator`), never the identity order.
func shuffledOrder(count: Int, generator: inout SeededGenerator) -> [Int] {
    var order = Array(0..<count)
    for i in stride(from: count - 1, to: 0, by: -1) {
        order.swapAt(i, generator.nextInt(below: i + 1))
    }
    if order == Array(0..<count) {
        order = Array(order[1...]) + [order[0]]
    }
    return order
}

/// Returns `count` and the noun, plural unless the count is 1, as in "1 token" or "1,024 tokens".
func counted(_ count: Int, _ noun: String, plural: String? = nil) -> String {
    Format.grouped(count) + " " + (count == 1 ? noun : plural ?? noun + "s")
}
