import BigramStep
import Foundation
import Tensor
import Testing

/// Trains a fresh model on `text` with the program's default learning rate.
private func trainedModel(_ text: String, steps: Int = 300) throws -> (model: BigramModel, ids: [Int]) {
    let vocabulary = try BigramVocabulary(text: text)
    let ids = try vocabulary.ids(for: text)
    let model = BigramModel(vocabulary: vocabulary)
    _ = model.train(on: ids, steps: steps, learningRate: 0.1)
    return (model, ids)
}

@Suite("Bigram vocabulary")
struct BigramVocabularyTests {
    @Test("ids follow code point order")
    func sortedIDs() throws {
        let vocabulary = try BigramVocabulary(text: "cab ")
        #expect(vocabulary.scalars == [" ", "a", "b", "c"])
        #expect(try vocabulary.ids(for: "abc ") == [1, 2, 3, 0])
        #expect(vocabulary.text(for: [3, 1, 2]) == "cab")
    }

    @Test("text shorter than two characters is rejected")
    func shortText() {
        #expect(throws: BigramError.textTooShort(scalarCount: 0)) { try BigramVocabulary(text: "") }
        #expect(throws: BigramError.textTooShort(scalarCount: 1)) { try BigramVocabulary(text: "a") }
        #expect(BigramError.textTooShort(scalarCount: 1).description.contains("at least 2"))
        // Two characters make one pair, which is enough, even when they are the same character.
        #expect(throws: Never.self) { try BigramVocabulary(text: "aa") }
    }

    @Test("unknown character is named with the vocabulary")
    func unknownCharacter() throws {
        let vocabulary = try BigramVocabulary(text: "abab")
        #expect(throws: BigramError.unknownCharacter("z", vocabulary: ["a", "b"])) { try vocabulary.ids(for: "az") }
        let message = BigramError.unknownCharacter("z", vocabulary: ["a", "b"]).description
        #expect(message.contains("\"z\" (U+007A)"))
        #expect(message.contains("The vocabulary is: a b."))
    }
}

@Suite("Bigram model on alternating text")
struct AlternatingTextTests {
    @Test("generation alternates from either start")
    func alternates() throws {
        let (model, _) = try trainedModel("abababababab")
        let a = try #require(model.vocabulary.id(of: "a"))
        let b = try #require(model.vocabulary.id(of: "b"))

        #expect(model.vocabulary.text(for: model.generate(after: a, length: 10)) == "bababababa")
        #expect(model.vocabulary.text(for: model.generate(after: b, length: 10)) == "ababababab")
    }

    @Test("P(b | a) and P(a | b) exceed 0.99")
    func probabilities() throws {
        let (model, _) = try trainedModel("abababababab")
        let a = try #require(model.vocabulary.id(of: "a"))
        let b = try #require(model.vocabulary.id(of: "b"))

        #expect(model.probabilities(after: a)[b] > 0.99)
        #expect(model.probabilities(after: b)[a] > 0.99)
    }

    @Test("untrained model predicts uniformly")
    func untrainedIsUniform() throws {
        let model = BigramModel(vocabulary: try BigramVocabulary(text: "abc"))
        for current in 0..<3 {
            #expect(model.probabilities(after: current) == [Float](repeating: 1.0 / 3.0, count: 3))
        }
        // Three equally likely next characters cost ln 3 nats each.
        #expect(abs(model.meanLoss(on: [0, 1, 2]) - Float(Foundation.log(3.0))) < 1e-6)
    }
}

@Suite("Bigram model has no memory")
struct NoMemoryTests {
    @Test("prediction API takes one character")
    func apiTakesOneCharacter() throws {
        let (model, _) = try trainedModel("xaxbabaxabba")
        // These lines compile only while the prediction takes a single id and nothing else: the type
        // of the function is the proof that no earlier character can reach it.
        let predict: (Int) -> [Float] = model.probabilities(after:)
        let continueFrom: (Int, Int) -> [Int] = model.generate(after:length:)
        let a = try #require(model.vocabulary.id(of: "a"))
        #expect(predict(a) == model.probabilities(after: a))
        #expect(continueFrom(a, 5).count == 5)
    }

    @Test("logits after a ignore what came before")
    func logitsIgnoreHistory() throws {
        let (model, _) = try trainedModel("xaxbabaxabba")
        let vocabulary = model.vocabulary
        let contexts = ["xa", "ba", "aa", "bbxa", "a"]

        // The forward pass over a whole context: the last row is the prediction after "a".
        var lastRows: [[Float]] = []
        for context in contexts {
            let ids = try vocabulary.ids(for: context)
            let logits = model.logits(for: ids)
            #expect(logits.shape == [ids.count, vocabulary.size])
            lastRows.append(Array(logits.data.suffix(vocabulary.size)))
        }
        for row in lastRows.dropFirst() {
            #expect(row == lastRows[0])
        }

        // And the trained rows really differ, so equal outputs are not a sign of an untrained model.
        let a = try #require(vocabulary.id(of: "a"))
        let x = try #require(vocabulary.id(of: "x"))
        #expect(model.probabilities(after: a) != model.probabilities(after: x))
    }
}

@Suite("Trained model matches counting")
struct CountAgreementTests {
    @Test("hand-worked counts and entropy")
    func handWorkedCounts() {
        // "aab": pairs (a, a) and (a, b), so P(a | a) = P(b | a) = 1/2 and each pair costs ln 2.
        let counts = BigramCounts(ids: [0, 0, 1], vocabularySize: 2)
        #expect(counts.counts == [1, 1, 0, 0])
        #expect(counts.probabilities(after: 0) == [0.5, 0.5])
        #expect(counts.probabilities(after: 1) == nil)
        #expect(abs(counts.conditionalEntropy - Foundation.log(2.0)) < 1e-12)
        #expect(abs(conditionalEntropy(of: [0, 0, 1], contextLength: 1) - Foundation.log(2.0)) < 1e-12)
    }

    @Test("trained loss reaches the count-based loss")
    func lossMatchesCounts() throws {
        let text = "the cat sat on the mat and the rat ran at the cat"
        let (model, ids) = try trainedModel(text, steps: 600)
        let counts = BigramCounts(ids: ids, vocabularySize: model.vocabulary.size)
        let floor = counts.conditionalEntropy
        let trained = Double(model.meanLoss(on: ids))

        // The count-based model is the minimum, so training approaches it from above; 600 AdamW
        // steps at lr 0.1 get within 0.01 nats on this 49-character text.
        #expect(floor > 0.5)
        #expect(trained >= floor - 1e-4)
        #expect(trained - floor < 0.01)

        // Row by row, the trained probabilities are the counted ones.
        for current in 0..<model.vocabulary.size {
            guard let counted = counts.probabilities(after: current) else { continue }
            let learned = model.probabilities(after: current)
            for next in 0..<model.vocabulary.size {
                #expect(abs(Double(learned[next]) - counted[next]) < 0.02, "P(\(next) | \(current))")
            }
        }
    }

    @Test("training lowers the loss from ln V")
    func lossDecreases() throws {
        let vocabulary = try BigramVocabulary(text: "abcabcabd")
        let ids = try vocabulary.ids(for: "abcabcabd")
        let model = BigramModel(vocabulary: vocabulary)
        let losses = model.train(on: ids, steps: 50, learningRate: 0.1)
        #expect(abs(Double(losses[0]) - Foundation.log(4.0)) < 1e-5)
        #expect(losses[49] < losses[0] / 2)
    }
}

@Suite("Bigram training in batches")
struct BatchTrainingTests {
    @Test("batch covering the text is full-batch training")
    func largeBatchIsFullBatch() throws {
        let text = "the cat sat on the mat"
        let vocabulary = try BigramVocabulary(text: text)
        let ids = try vocabulary.ids(for: text)
        let full = BigramModel(vocabulary: vocabulary)
        let batched = BigramModel(vocabulary: vocabulary)
        var generator = SeededGenerator(seed: 3)

        let fullLosses = full.train(on: ids, steps: 20, learningRate: 0.1)
        let batchedLosses = batched.train(on: ids, steps: 20, learningRate: 0.1, batchSize: ids.count - 1, generator: &generator)
        #expect(fullLosses == batchedLosses)
        #expect(full.table.data == batched.table.data)
    }

    @Test("random batches approach the count-based loss")
    func randomBatches() throws {
        let text = String(repeating: "the cat sat on the mat and the rat ran at the cat. ", count: 20)
        let vocabulary = try BigramVocabulary(text: text)
        let ids = try vocabulary.ids(for: text)
        let floor = BigramCounts(ids: ids, vocabularySize: vocabulary.size).conditionalEntropy

        var first = SeededGenerator(seed: 5)
        var second = SeededGenerator(seed: 5)
        let model = BigramModel(vocabulary: vocabulary)
        let again = BigramModel(vocabulary: vocabulary)
        let losses = model.train(on: ids, steps: 300, learningRate: 0.1, batchSize: 64, generator: &first)
        let repeated = again.train(on: ids, steps: 300, learningRate: 0.1, batchSize: 64, generator: &second)

        // The same seed draws the same batches.
        #expect(losses == repeated)
        // 64 of 1,019 pairs per step still gets within 0.05 nats of the minimum on the whole text.
        let trained = Double(model.meanLoss(on: ids))
        #expect(trained >= floor - 1e-4)
        #expect(trained - floor < 0.05)
    }
}

@Suite("Two characters of memory")
struct MemoryDemoTests {
    @Test("text follows the two-back rule")
    func textRule() {
        let text = Array(TwoBackText.make(length: 30).unicodeScalars)
        #expect(String(String.UnicodeScalarView(text.prefix(8))) == "axbyczdx")
        for position in 2..<text.count {
            let cycle = position % 2 == 0 ? TwoBackText.evenCycle : TwoBackText.oddCycle
            let previous = cycle.firstIndex(of: text[position - 2])!
            #expect(text[position] == cycle[(previous + 1) % cycle.count])
        }
    }

    @Test("bigram loss stops at the one-character entropy")
    func lossFloor() throws {
        let text = TwoBackText.make(length: 241)
        let (model, ids) = try trainedModel(text, steps: 300)
        let oneBack = conditionalEntropy(of: ids, contextLength: 1)
        let twoBack = conditionalEntropy(of: ids, contextLength: 2)
        let trained = Double(model.meanLoss(on: ids))

        // Worked by hand: half the targets are one of 4 letters and half one of 3, each uniform
        // given the current character, so H(next | current) = (ln 4 + ln 3) / 2.
        let expected = (Foundation.log(4.0) + Foundation.log(3.0)) / 2
        #expect(abs(oneBack - expected) < 1e-9)
        #expect(abs(twoBack) < 1e-12)

        // Training cannot go below the floor, and gets close to it.
        #expect(trained >= oneBack - 1e-3)
        #expect(trained - oneBack < 0.01)
        #expect(oneBack - twoBack > 1.0)
    }
}

@Suite("Bigram sampling")
struct SamplingTests {
    @Test("same seed draws the same text")
    func seededSampling() throws {
        let (model, _) = try trainedModel("abcacbbca", steps: 100)
        var first = SeededGenerator(seed: 7)
        var second = SeededGenerator(seed: 7)
        var other = SeededGenerator(seed: 8)
        let a = model.generate(after: 0, length: 30, generator: &first)
        let b = model.generate(after: 0, length: 30, generator: &second)
        let c = model.generate(after: 0, length: 30, generator: &other)
        #expect(a == b)
        #expect(a != c)
    }
}
