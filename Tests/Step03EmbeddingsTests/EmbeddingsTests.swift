import DatasetStep
import EmbeddingsStep
import Tensor
import Testing
import TokenizerStep

/// Returns row `row` of a tensor whose last axis has `width` values.
private func row(_ tensor: Tensor, _ row: Int) -> [Float] {
    let width = tensor.shape[tensor.rank - 1]
    return Array(tensor.data[(row * width)..<((row + 1) * width)])
}

private func makeEmbedding(positions: Bool, seed: UInt64 = 7, vocabSize: Int = 8, blockSize: Int = 6, embedDim: Int = 4)
    -> TokenAndPositionEmbedding
{
    var generator = SeededGenerator(seed: seed)
    return TokenAndPositionEmbedding(
        vocabSize: vocabSize, blockSize: blockSize, embedDim: embedDim, usePositions: positions, generator: &generator)
}

@Suite("Lookup")
struct LookupTests {
    @Test("lookup returns the table row exactly")
    func lookupReturnsRow() {
        let embedding = makeEmbedding(positions: false)
        let ids = [3, 0, 3, 7, 5, 1]
        let output = embedding(ids, shape: [2, 3])
        #expect(output.shape == [2, 3, 4])
        let table = embedding.tokenEmbedding.weight.data
        for (position, id) in ids.enumerated() {
            #expect(row(output, position) == Array(table[(id * 4)..<(id * 4 + 4)]), "position \(position), id \(id)")
            #expect(embedding.tokenVector(id) == Array(table[(id * 4)..<(id * 4 + 4)]), "id \(id)")
        }
        #expect(embedding.positionVector(0) == nil)
    }

    @Test("output is token row plus position row")
    func outputIsSum() {
        let embedding = makeEmbedding(positions: true)
        let ids = [3, 0, 3, 7, 5, 3]
        let output = embedding(ids, shape: [2, 3])
        let tokens = embedding.tokenEmbedding.weight.data
        let positions = embedding.positionEmbedding!.weight.data
        for (index, id) in ids.enumerated() {
            let t = index % 3
            let expected = (0..<4).map { tokens[id * 4 + $0] + positions[t * 4 + $0] }
            #expect(row(output, index) == expected, "batch \(index / 3), position \(t)")
        }
    }

    @Test("token table does not depend on positions")
    func tokenTableSharedAcrossModes() {
        let with = makeEmbedding(positions: true, seed: 9)
        let without = makeEmbedding(positions: false, seed: 9)
        #expect(with.tokenEmbedding.weight.data == without.tokenEmbedding.weight.data)
    }

    @Test("renaming ids with their rows changes nothing")
    func renamingIDs() {
        // Moving every row to a new id and renaming the ids the same way gives the same vectors,
        // so the size of an id carries no meaning.
        let embedding = makeEmbedding(positions: false)
        let renamed = makeEmbedding(positions: false, seed: 99)
        let newID = [5, 2, 7, 0, 6, 1, 3, 4]
        for id in 0..<8 {
            for j in 0..<4 {
                renamed.tokenEmbedding.weight.data[newID[id] * 4 + j] = embedding.tokenEmbedding.weight.data[id * 4 + j]
            }
        }
        let ids = [1, 6, 6, 2, 0]
        let original = embedding(ids, shape: [1, 5])
        let moved = renamed(ids.map { newID[$0] }, shape: [1, 5])
        #expect(original.data == moved.data)
    }
}

@Suite("Gradients")
struct GradientTests {
    @Test("only the rows used get a gradient")
    func gradientReachesUsedRows() throws {
        let embedding = makeEmbedding(positions: false)
        let output = embedding([3, 5, 3], shape: [1, 3])
        // The seed gradient of position p, dimension j is 10p + j + 1.
        let seed = (0..<3).flatMap { p in (0..<4).map { j in Float(10 * p + j + 1) } }
        output.backward(seed: seed)

        let grad = try #require(embedding.tokenEmbedding.weight.grad)
        for id in 0..<8 {
            let rowGrad = Array(grad[(id * 4)..<(id * 4 + 4)])
            switch id {
            case 3:
                let sum: [Float] = [1 + 21, 2 + 22, 3 + 23, 4 + 24]
                #expect(rowGrad == sum, "id 3 appears twice: the sum")
            case 5: #expect(rowGrad == [11, 12, 13, 14])
            default:
                #expect(rowGrad == [0, 0, 0, 0], "id \(id) was not used")
            }
        }
    }

    @Test("position rows sum batch gradients")
    func positionGradient() throws {
        let embedding = makeEmbedding(positions: true)
        let output = embedding([1, 2, 4, 4], shape: [2, 2])
        output.backward(seed: [Float](repeating: 1, count: 16))

        let positionGrad = try #require(embedding.positionEmbedding!.weight.grad)
        #expect(Array(positionGrad[0..<8]) == [Float](repeating: 2, count: 8), "positions 0 and 1, two rows each")
        #expect(Array(positionGrad[8...]) == [Float](repeating: 0, count: 16), "positions 2 to 5 were not used")
        let tokenGrad = try #require(embedding.tokenEmbedding.weight.grad)
        #expect(Array(tokenGrad[16..<20]) == [2, 2, 2, 2], "id 4 appears twice")
        #expect(Array(tokenGrad[0..<4]) == [0, 0, 0, 0], "id 0 was not used")
    }
}

@Suite("Positions")
struct PositionTests {
    /// Token ids without repeats, and orders that move every position.
    let ids = [6, 1, 4, 0, 7, 2]
    let orders = [[1, 2, 3, 4, 5, 0], [5, 4, 3, 2, 1, 0], [3, 0, 5, 1, 2, 4]]

    @Test("equivariant without positions")
    func equivariantWithoutPositions() {
        let embedding = makeEmbedding(positions: false)
        let output = embedding(ids, shape: [1, 6])
        for order in orders {
            let shuffled = embedding(order.map { ids[$0] }, shape: [1, 6])
            for t in 0..<6 {
                #expect(row(shuffled, t) == row(output, order[t]), "order \(order), position \(t)")
            }
        }
    }

    @Test("not equivariant with positions")
    func notEquivariantWithPositions() {
        let embedding = makeEmbedding(positions: true)
        let output = embedding(ids, shape: [1, 6])
        for order in orders {
            let shuffled = embedding(order.map { ids[$0] }, shape: [1, 6])
            for t in 0..<6 where order[t] != t {
                #expect(row(shuffled, t) != row(output, order[t]), "order \(order), position \(t)")
            }
        }
    }

    @Test("same token at two positions")
    func sameTokenTwoPositions() {
        let with = makeEmbedding(positions: true)(Array(repeating: 5, count: 6), shape: [1, 6])
        let without = makeEmbedding(positions: false)(Array(repeating: 5, count: 6), shape: [1, 6])
        for t in 1..<6 {
            #expect(row(with, t) != row(with, 0), "with positions, position \(t)")
            #expect(row(without, t) == row(without, 0), "without positions, position \(t)")
        }
    }
}

@Suite("Similarity")
struct SimilarityTests {
    @Test("cosine similarity of known vectors")
    func cosineKnownValues() {
        #expect(cosineSimilarity([1, 0], [0, 1]) == 0)
        #expect(abs(cosineSimilarity([1, 2, 3], [2, 4, 6]) - 1) < 1e-6)
        #expect(abs(cosineSimilarity([1, 0], [-3, 0]) + 1) < 1e-6)
        #expect(abs(cosineSimilarity([3, 4], [4, 3]) - 0.96) < 1e-6, "24 / 25")
        #expect(cosineSimilarity([0, 0], [1, 2]) == 0, "a zero vector has no direction")
        #expect(abs(euclideanNorm([3, 4]) - 5) < 1e-6)
    }

    @Test("nearest tokens by cosine")
    func nearestTokensOrder() {
        let table = Tensor(shape: [5, 2], data: [1, 0, 0.9, 0.1, 0, 1, -1, 0, 2, 0.4])
        let nearest = nearestTokens(to: 0, in: table, count: 3)
        // cos with row 4 is 2 / √4.16 ≈ 0.981, with row 1 0.9 / √0.82 ≈ 0.994, with row 2 it is 0.
        #expect(nearest.map(\.id) == [1, 4, 2])
        #expect(abs(nearest[0].similarity - 0.9939) < 1e-4)
        #expect(nearestTokens(to: 0, in: table, count: 3, excluding: [1]).map(\.id) == [4, 2, 3])
    }

    @Test("cosine summary by id distance")
    func cosineSummaryByDistance() {
        // Rows alternate between two perpendicular directions, so pairs at odd distance have
        // cosine 0 and pairs at even distance cosine 1.
        let table = Tensor(shape: [4, 2], data: [1, 0, 0, 2, 3, 0, 0, 4])
        let neighbours = cosineSummary(of: table, idDistances: 1...1)
        #expect(neighbours == CosineSummary(pairCount: 3, mean: 0, standardDeviation: 0))
        let even = cosineSummary(of: table, idDistances: 2...2)
        #expect(even == CosineSummary(pairCount: 2, mean: 1, standardDeviation: 0))
        // All six pairs: two of them 1, four 0, so the mean is 1/3 and the deviation √(2/9).
        let all = cosineSummary(of: table, idDistances: 1...3)
        #expect(all.pairCount == 6)
        #expect(abs(all.mean - 1.0 / 3.0) < 1e-6)
        #expect(abs(all.standardDeviation - (2.0 / 9.0).squareRoot()) < 1e-6)
        // The standard error of the mean of six pairs is the deviation over √6.
        #expect(abs(all.standardError - Float((2.0 / 9.0).squareRoot() / 6.0.squareRoot())) < 1e-6)
        #expect(neighbours.standardError == 0)
        let none = cosineSummary(of: table, idDistances: 4...9)
        #expect(none.pairCount == 0)
        #expect(none.standardError == 0)
    }

    @Test("learned similarity follows usage, not ids")
    func learnedSimilarityFollowsUsage() throws {
        // "a" and "c" are always followed by "x", while "b", whose id lies between them, is always
        // followed by "y". After x or y comes a random one of a, b, c.
        var textGenerator = SeededGenerator(seed: 1)
        var text = ""
        for _ in 0..<600 {
            let first = ["a", "b", "c"][textGenerator.nextInt(below: 3)]
            text += first + (first == "b" ? "y" : "x")
        }
        let tokenizer = try CharTokenizer(training: text)
        let ids = tokenizer.encode(text)
        let (a, b, c) = (tokenizer.encode("a")[0], tokenizer.encode("b")[0], tokenizer.encode("c")[0])
        #expect([a, b, c] == [1, 2, 3])

        var generator = SeededGenerator(seed: 4)
        let embedding = TokenAndPositionEmbedding(
            vocabSize: tokenizer.vocabSize, blockSize: 8, embedDim: 8, usePositions: false, generator: &generator)
        let model = EmbeddingBigramModel(embedding: embedding, generator: &generator)
        let acBefore = cosineSimilarity(embedding.tokenVector(a), embedding.tokenVector(c))
        let losses = try trainEmbeddingBigram(
            model, on: ids, steps: 200, batchSize: 16, blockSize: 8, learningRate: 0.05, generator: &generator)
        let acAfter = cosineSimilarity(embedding.tokenVector(a), embedding.tokenVector(c))
        let abAfter = cosineSimilarity(embedding.tokenVector(a), embedding.tokenVector(b))

        #expect(losses.count == 200)
        let firstLoss: Float = losses.prefix(20).reduce(0, +) / 20
        let lastLoss: Float = losses.suffix(20).reduce(0, +) / 20
        #expect(lastLoss < firstLoss)
        #expect(acBefore < 0.5, "at initialisation a and c are not alike: \(acBefore)")
        #expect(acAfter > 0.9, "a and c predict the same next token: \(acAfter)")
        #expect(abAfter < 0.5, "a and b predict different next tokens: \(abAfter)")
        #expect(acAfter - abAfter > 0.5, "a is closer to c than to b, its neighbour by id")
    }
}
