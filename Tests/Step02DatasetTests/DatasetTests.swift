import DatasetStep
import Tensor
import Testing
import TokenizerStep

/// Ids that are all different, so a window's start can be read off its first input.
private func distinctIDs(count: Int) -> [Int] {
    (0..<count).map { 1000 + 7 * $0 }
}

@Suite("Batches by shifting")
struct ShiftTests {
    @Test("targets are inputs moved by one")
    func targetsAreShiftedInputs() throws {
        let ids = distinctIDs(count: 300)
        for seed: UInt64 in 1...20 {
            var generator = SeededGenerator(seed: seed)
            let batch = try TokenDataset.randomBatch(from: ids, batchSize: 8, blockSize: 6, generator: &generator)
            #expect(batch.shape == [8, 6])
            for b in 0..<batch.batchSize {
                let x = Array(batch.inputRow(b))
                let y = Array(batch.targetRow(b))
                for t in 0..<5 {
                    #expect(y[t] == x[t + 1], "seed \(seed), row \(b), t \(t)")
                }
                let start = try #require(ids.firstIndex(of: x[0]))
                for t in 0..<6 {
                    #expect(x[t] == ids[start + t], "seed \(seed), row \(b), t \(t)")
                    #expect(y[t] == ids[start + t + 1], "seed \(seed), row \(b), t \(t)")
                }
            }
        }
    }

    @Test("labels come from the text alone")
    func labelsComeFromText() throws {
        // Text with repeated characters, so a window cannot be found by its first token.
        let text = "to be or not to be, that is the question"
        let ids = CharTokenizer(scalars: Array(Set(text.unicodeScalars)).sorted { $0.value < $1.value }).encode(text)
        var startGenerator = SeededGenerator(seed: 5)
        var batchGenerator = SeededGenerator(seed: 5)
        let starts = try TokenDataset.randomStarts(count: 6, tokenCount: ids.count, blockSize: 8, generator: &startGenerator)
        let batch = try TokenDataset.randomBatch(from: ids, batchSize: 6, blockSize: 8, generator: &batchGenerator)

        for (b, start) in starts.enumerated() {
            // The targets are nothing but the next 8 ids of the same text.
            #expect(Array(batch.inputRow(b)) == Array(ids[start..<(start + 8)]), "row \(b)")
            #expect(Array(batch.targetRow(b)) == Array(ids[(start + 1)..<(start + 9)]), "row \(b)")
        }
    }

    @Test("hello with block size 4")
    func helloByHand() throws {
        // Sorted scalars e, h, l, o get ids 1, 2, 3, 4, so "hello" is [2, 1, 3, 3, 4].
        let tokenizer = try CharTokenizer(training: "hello")
        let ids = tokenizer.encode("hello")
        #expect(ids == [2, 1, 3, 3, 4])
        let batch = TokenDataset.batch(from: ids, starts: [0], blockSize: 4)
        #expect(batch.inputs == [2, 1, 3, 3])
        #expect(batch.targets == [1, 3, 3, 4])
    }

    @Test("one row holds blockSize examples")
    func examplesOfOneRow() {
        let batch = Batch(inputs: [5, 6, 7, 20, 21, 22], targets: [6, 7, 8, 21, 22, 23], batchSize: 2, blockSize: 3)
        #expect(batch.examples(row: 0) == [
            NextTokenExample(context: [5], target: 6),
            NextTokenExample(context: [5, 6], target: 7),
            NextTokenExample(context: [5, 6, 7], target: 8),
        ])
        #expect(batch.examples(row: 1) == [
            NextTokenExample(context: [20], target: 21),
            NextTokenExample(context: [20, 21], target: 22),
            NextTokenExample(context: [20, 21, 22], target: 23),
        ])
    }
}

@Suite("Counting examples")
struct CountTests {
    @Test("window counts on tiny texts", arguments: [
        (tokens: 5, blockSize: 4, windows: 1),
        (tokens: 5, blockSize: 2, windows: 3),
        (tokens: 6, blockSize: 2, windows: 4),
        (tokens: 9, blockSize: 8, windows: 1),
        (tokens: 8, blockSize: 8, windows: 0),
        (tokens: 2, blockSize: 1, windows: 1),
        (tokens: 1, blockSize: 1, windows: 0),
        (tokens: 0, blockSize: 3, windows: 0),
    ])
    func windowCounts(tokens: Int, blockSize: Int, windows: Int) throws {
        #expect(TokenDataset.windowCount(tokenCount: tokens, blockSize: blockSize) == windows)
        guard windows > 0 else { return }

        // Every start that random batches reach, over many draws, is exactly 0 ..< windows.
        let ids = distinctIDs(count: tokens)
        var generator = SeededGenerator(seed: 11)
        var seenStarts = Set<Int>()
        for _ in 0..<50 {
            let batch = try TokenDataset.randomBatch(from: ids, batchSize: 4, blockSize: blockSize, generator: &generator)
            for b in 0..<batch.batchSize {
                seenStarts.insert(try #require(ids.firstIndex(of: batch.inputRow(b).first!)))
            }
        }
        #expect(seenStarts == Set(0..<windows))
    }

    @Test("exactly one window when N = blockSize + 1")
    func exactlyOneWindow() throws {
        let ids = [10, 11, 12, 13, 14]
        var generator = SeededGenerator(seed: 3)
        let batch = try TokenDataset.randomBatch(from: ids, batchSize: 5, blockSize: 4, generator: &generator)
        for b in 0..<5 {
            #expect(Array(batch.inputRow(b)) == [10, 11, 12, 13])
            #expect(Array(batch.targetRow(b)) == [11, 12, 13, 14])
        }
        #expect(TokenDataset.windowExampleCount(tokenCount: 5, blockSize: 4) == 4)
        #expect(TokenDataset.contextTargetPairCount(tokenCount: 5) == 4)
    }

    @Test("zero windows rejected with both numbers")
    func zeroWindowsRejected() {
        var generator = SeededGenerator(seed: 3)
        #expect(throws: DatasetError.splitTooShort(split: "training", tokenCount: 4, blockSize: 4)) {
            try TokenDataset.randomBatch(from: [1, 2, 3, 4], batchSize: 2, blockSize: 4, generator: &generator)
        }
        #expect(throws: DatasetError.splitTooShort(split: "validation", tokenCount: 3, blockSize: 8)) {
            try TokenDataset.checkSplit([1, 2, 3], blockSize: 8, splitName: "validation")
        }
        let message = DatasetError.splitTooShort(split: "validation", tokenCount: 3, blockSize: 8).description
        #expect(message.contains("3 tokens"))
        #expect(message.contains("block size + 1 = 9"))
        #expect(message.contains("--block-size"))
    }

    @Test("sizes below 1 rejected")
    func sizesBelowOneRejected() {
        let ids = distinctIDs(count: 20)
        var generator = SeededGenerator(seed: 3)
        #expect(throws: DatasetError.invalidBatchSize(0)) {
            try TokenDataset.randomBatch(from: ids, batchSize: 0, blockSize: 4, generator: &generator)
        }
        #expect(throws: DatasetError.invalidBlockSize(0)) {
            try TokenDataset.randomBatch(from: ids, batchSize: 2, blockSize: 0, generator: &generator)
        }
        #expect(throws: DatasetError.invalidBlockSize(-3)) {
            try TokenDataset.checkSplit(ids, blockSize: -3, splitName: "training")
        }
        #expect(DatasetError.invalidBatchSize(0).description.contains("--batch-size 0"))
        #expect(DatasetError.invalidBlockSize(0).description.contains("--block-size 0"))
    }

    @Test("each target counted once gives N − 1 pairs")
    func contextTargetPairsByEnumeration() {
        let tokenCount = 12, blockSize = 4
        let ids = distinctIDs(count: tokenCount)
        let windows = TokenDataset.windowCount(tokenCount: tokenCount, blockSize: blockSize)
        let batch = TokenDataset.batch(from: ids, starts: Array(0..<windows), blockSize: blockSize)

        // Position of each target in the text, and the longest context seen for it.
        var longestContext: [Int: Int] = [:]
        var exampleCount = 0
        for b in 0..<batch.batchSize {
            for example in batch.examples(row: b) {
                let position = ids.firstIndex(of: example.target)!
                longestContext[position] = max(longestContext[position] ?? 0, example.context.count)
                exampleCount += 1
            }
        }

        #expect(exampleCount == (12 - 4) * 4)
        #expect(TokenDataset.windowExampleCount(tokenCount: tokenCount, blockSize: blockSize) == 32)
        #expect(Set(longestContext.keys) == Set(1..<12))
        #expect(longestContext.count == 11)
        #expect(TokenDataset.contextTargetPairCount(tokenCount: tokenCount) == 11)
        for position in 1..<12 {
            #expect(longestContext[position] == min(position, blockSize), "target at \(position)")
        }
    }
}

@Suite("Seeds and splits")
struct SeedAndSplitTests {
    @Test("same seed gives the same batch")
    func sameSeedSameBatch() throws {
        let ids = distinctIDs(count: 1000)
        var first = SeededGenerator(seed: 42)
        var second = SeededGenerator(seed: 42)
        let a = try TokenDataset.randomBatch(from: ids, batchSize: 4, blockSize: 8, generator: &first)
        let b = try TokenDataset.randomBatch(from: ids, batchSize: 4, blockSize: 8, generator: &second)
        #expect(a == b)
    }

    @Test("different seeds give different batches")
    func differentSeedsDifferentBatches() throws {
        let ids = distinctIDs(count: 1000)
        var batches: [Batch] = []
        for seed: UInt64 in 1...10 {
            var generator = SeededGenerator(seed: seed)
            batches.append(try TokenDataset.randomBatch(from: ids, batchSize: 4, blockSize: 8, generator: &generator))
        }
        for i in 0..<batches.count {
            for j in (i + 1)..<batches.count {
                #expect(batches[i] != batches[j], "seeds \(i + 1) and \(j + 1)")
            }
        }
    }

    @Test("split sizes", arguments: [
        (tokens: 100, fraction: 0.1, train: 90, validation: 10),
        (tokens: 10, fraction: 0.1, train: 9, validation: 1),
        (tokens: 90, fraction: 0.3, train: 63, validation: 27),
        (tokens: 10, fraction: 0.0, train: 10, validation: 0),
        (tokens: 7, fraction: 0.5, train: 3, validation: 4),
        (tokens: 10, fraction: 0.9, train: 1, validation: 9),
        (tokens: 1_115_394, fraction: 0.1, train: 1_003_854, validation: 111_540),
    ])
    func splitSizes(tokens: Int, fraction: Double, train: Int, validation: Int) throws {
        let ids = distinctIDs(count: tokens)
        let dataset = try TokenDataset(ids: ids, valFraction: fraction)
        #expect(dataset.train.count == train)
        #expect(dataset.validation.count == validation)
        #expect(dataset.train + dataset.validation == ids)
    }

    @Test("fractions outside 0 ..< 1 rejected", arguments: [1.0, -0.1, 1.5])
    func invalidFractions(fraction: Double) {
        #expect(throws: DatasetError.invalidFraction(fraction)) {
            try TokenDataset(ids: [1, 2, 3], valFraction: fraction)
        }
    }
}
