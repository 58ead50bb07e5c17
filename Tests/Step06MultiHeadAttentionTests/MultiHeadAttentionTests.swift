import Foundation
import MLPStep
import MultiHeadAttentionStep
import SelfAttentionStep
import StepKit
import Tensor
import Testing

func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

/// Returns a tensor of normal draws, as stand-in token vectors.
func randomInput(_ shape: [Int], seed: UInt64) -> Tensor {
    var generator = SeededGenerator(seed: seed)
    return Tensor.randomNormal(shape, std: 1, generator: &generator)
}

/// Returns a layer whose weights are drawn with standard deviation 0.5, so its scores are far from
/// zero and the softmax rows are far from uniform.
func makeAttention(embedDim: Int = 8, numHeads: Int, seed: UInt64 = 3) throws -> MultiHeadAttention {
    var generator = SeededGenerator(seed: seed)
    let layer = try MultiHeadAttention(embedDim: embedDim, numHeads: numHeads, generator: &generator)
    for linear in [layer.query, layer.key, layer.value, layer.projection] {
        for i in 0..<linear.weight.count { linear.weight.data[i] = 0.5 * generator.nextNormal() }
    }
    return layer
}

/// Returns the largest absolute difference between two equally long arrays.
func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "maxDifference: \(a.count) and \(b.count) values")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// Returns head `head`'s matrices `[B, T, T]` from attention `[B, numHeads, T, T]`.
func headSlice(_ attention: Tensor, head: Int) -> [Float] {
    let (batch, numHeads, size) = (attention.shape[0], attention.shape[1], attention.shape[2])
    var values: [Float] = []
    for b in 0..<batch {
        let start = (b * numHeads + head) * size * size
        values += attention.data[start..<(start + size * size)]
    }
    return values
}

/// Returns a single head whose query, key and value weights are rows `rows` of the layer's weights:
/// the head that the layer's head with those channels should be.
func copyHead(of layer: MultiHeadAttention, rows: Range<Int>, embedDim: Int) -> SelfAttentionHead {
    var generator = SeededGenerator(seed: 0)
    let head = SelfAttentionHead(embedDim: embedDim, headSize: rows.count, generator: &generator)
    for (target, source) in [(head.query, layer.query), (head.key, layer.key), (head.value, layer.value)] {
        target.weight.data = Array(source.weight.data[(rows.lowerBound * embedDim)..<(rows.upperBound * embedDim)])
    }
    return head
}

@Suite("Multi-head attention")
struct MultiHeadAttentionTests {
    @Test("one head equals step 05's head")
    func oneHeadMatchesSingleHead() throws {
        let embedDim = 6
        let layer = try makeAttention(embedDim: embedDim, numHeads: 1)
        let single = copyHead(of: layer, rows: 0..<embedDim, embedDim: embedDim)
        var generator = SeededGenerator(seed: 0)
        let projection = Linear(inputSize: embedDim, outputSize: embedDim, bias: false, generator: &generator)
        projection.weight.data = layer.projection.weight.data

        let x = randomInput([2, 5, embedDim], seed: 11)
        let (output, attention) = layer(x)
        let (headOutput, headAttention) = single(x)
        let expected = projection(headOutput)

        #expect(output.shape == expected.shape)
        #expect(attention.shape == [2, 1, 5, 5])
        #expect(maxDifference(attention.data, headAttention.data) < 1e-6)
        #expect(maxDifference(output.data, expected.data) < 1e-6)
        // The check can fail: the output is not trivially small.
        #expect((output.data.map(abs).max() ?? 0) > 0.1)
    }

    @Test("each head is its own slice")
    func headsAreSlices() throws {
        // Head h of a 4-head layer uses rows 2h..<2h+2 of the query, key and value weights, and its
        // output fills channels 2h..<2h+2 of the concatenation.
        let (embedDim, numHeads, headSize) = (8, 4, 2)
        let layer = try makeAttention(embedDim: embedDim, numHeads: numHeads)
        let x = randomInput([2, 5, embedDim], seed: 12)
        let stages = layer.stages(x)

        for h in 0..<numHeads {
            let head = copyHead(of: layer, rows: (h * headSize)..<((h + 1) * headSize), embedDim: embedDim)
            let (headOutput, headAttention) = head(x)
            #expect(maxDifference(headSlice(stages.attention, head: h), headAttention.data) < 1e-6, "head \(h) attention")

            var concatenatedSlice: [Float] = []
            for row in 0..<(2 * 5) {
                let start = row * embedDim + h * headSize
                concatenatedSlice += stages.concatenated.data[start..<(start + headSize)]
            }
            #expect(maxDifference(concatenatedSlice, headOutput.data) < 1e-6, "head \(h) output")
        }
    }

    @Test("output shape ignores the head count")
    func shapesPerHeadCount() throws {
        let embedDim = 8
        let x = randomInput([2, 5, embedDim], seed: 13)
        for numHeads in [1, 2, 4, 8] {
            let layer = try makeAttention(embedDim: embedDim, numHeads: numHeads)
            let stages = layer.stages(x)
            let headSize = embedDim / numHeads
            #expect(layer.headSize == headSize)
            #expect(stages.input.shape == [2, 5, 8])
            #expect(stages.queries.shape == [2, numHeads, 5, headSize])
            #expect(stages.keys.shape == [2, numHeads, 5, headSize])
            #expect(stages.values.shape == [2, numHeads, 5, headSize])
            #expect(stages.attention.shape == [2, numHeads, 5, 5])
            #expect(stages.heads.shape == [2, numHeads, 5, headSize])
            #expect(stages.concatenated.shape == [2, 5, 8], "\(numHeads) heads")
            #expect(stages.output.shape == [2, 5, 8], "\(numHeads) heads")
            // Four C×C matrices whatever the head count.
            #expect(layer.parameterCount == 4 * embedDim * embedDim, "\(numHeads) heads")
        }
    }

    @Test("changing one head's queries moves only it")
    func headsAreIndependent() throws {
        let (embedDim, numHeads, headSize) = (8, 4, 2)
        let layer = try makeAttention(embedDim: embedDim, numHeads: numHeads)
        let x = randomInput([2, 5, embedDim], seed: 14)
        let (_, before) = layer(x)

        let changedHead = 2
        for i in (changedHead * headSize * embedDim)..<((changedHead + 1) * headSize * embedDim) {
            layer.query.weight.data[i] += 0.7
        }
        let (_, after) = layer(x)

        for h in 0..<numHeads where h != changedHead {
            #expect(bits(headSlice(after, head: h)) == bits(headSlice(before, head: h)), "head \(h) moved")
        }
        #expect(maxDifference(headSlice(after, head: changedHead), headSlice(before, head: changedHead)) > 0.01)
    }

    @Test("rows sum to 1 in every head, causally")
    func everyHeadIsCausal() throws {
        let layer = try makeAttention(numHeads: 4)
        let x = randomInput([2, 6, 8], seed: 15)
        let (output, attention) = layer(x)
        for b in 0..<2 {
            for h in 0..<4 {
                let start = (b * 4 + h) * 36
                let matrix = AttentionMatrix(size: 6, values: Array(attention.data[start..<(start + 36)]))
                #expect(matrix.isCausal, "sequence \(b), head \(h)")
                #expect(matrix.maxRowSumDeviation < 1e-6, "sequence \(b), head \(h)")
            }
        }

        // Changing the last position leaves the outputs of the earlier ones bit-identical.
        let y = Tensor(shape: x.shape, data: x.data)
        for b in 0..<2 {
            for c in 0..<8 { y.data[(b * 6 + 5) * 8 + c] += 1 }
        }
        let (changed, _) = layer(y)
        for b in 0..<2 {
            let earlier = (b * 6 * 8)..<((b * 6 + 5) * 8)
            #expect(bits(Array(changed.data[earlier])) == bits(Array(output.data[earlier])))
            let last = ((b * 6 + 5) * 8)..<((b * 6 + 6) * 8)
            #expect(bits(Array(changed.data[last])) != bits(Array(output.data[last])))
        }
    }
}

@Suite("Head count errors")
struct HeadCountErrorTests {
    @Test("non-divisor names both numbers")
    func nonDivisor() {
        #expect(throws: AttentionConfigurationError.self) {
            try AttentionConfigurationError.check(embedDim: 32, numHeads: 3)
        }
        let message = AttentionConfigurationError(embedDim: 32, numHeads: 3).description
        #expect(message.contains("--heads 3"))
        #expect(message.contains("--embed-dim 32"))
        #expect(message.contains("1, 2, 4, 8, 16, 32"))
        #expect(AttentionConfigurationError(embedDim: 12, numHeads: 5).validHeadCounts == [1, 2, 3, 4, 6, 12])
    }

    @Test("head counts below 1 are rejected")
    func tooFewHeads() {
        for numHeads in [0, -2] {
            #expect(throws: AttentionConfigurationError.self) {
                try AttentionConfigurationError.check(embedDim: 8, numHeads: numHeads)
            }
            let message = AttentionConfigurationError(embedDim: 8, numHeads: numHeads).description
            #expect(message.contains("--heads \(numHeads)"))
            #expect(message.contains("at least 1"))
            #expect(message.contains("1, 2, 4, 8"))
        }
    }

    @Test("the flag name is part of the message")
    func flagName() {
        do {
            try AttentionConfigurationError.check(embedDim: 30, numHeads: 4, flag: "--compare-heads")
            Issue.record("4 heads were accepted for an embedding of 30")
        } catch let error as AttentionConfigurationError {
            #expect(error.description.hasPrefix("invalid --compare-heads 4:"))
            #expect(error.description.contains("1, 2, 3, 5, 6, 10, 15, 30"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("layer and model reject before building")
    func constructorsThrow() {
        var generator = SeededGenerator(seed: 1)
        #expect(throws: AttentionConfigurationError.self) {
            _ = try MultiHeadAttention(embedDim: 10, numHeads: 4, generator: &generator)
        }
        #expect(throws: AttentionConfigurationError.self) {
            _ = try MultiHeadLanguageModel(
                vocabSize: 5, blockSize: 4, embedDim: 10, numHeads: 3, hiddenSize: 8, depth: 1, generator: &generator)
        }
        // Valid counts still pass, so the checks above can fail.
        #expect(throws: Never.self) { try AttentionConfigurationError.check(embedDim: 10, numHeads: 5) }
    }
}

@Suite("Multi-head language model")
struct MultiHeadLanguageModelTests {
    func makeModel(numHeads: Int, seed: UInt64 = 5) throws -> MultiHeadLanguageModel {
        var generator = SeededGenerator(seed: seed)
        return try MultiHeadLanguageModel(
            vocabSize: 9, blockSize: 6, embedDim: 8, numHeads: numHeads, hiddenSize: 12, depth: 2, generator: &generator)
    }

    @Test("parameter count is the same for every head count")
    func parameterCount() throws {
        // V·C + T·C + 4·C² + C·H + H + H·H + H + H·V + V with V = 9, T = 6, C = 8, H = 12.
        let expected = 9 * 8 + 6 * 8 + 4 * 8 * 8 + 8 * 12 + 12 + 12 * 12 + 12 + 12 * 9 + 9
        for numHeads in [1, 2, 4, 8] {
            #expect(try makeModel(numHeads: numHeads).parameterCount == expected, "\(numHeads) heads")
        }
    }

    @Test("one matrix per head for a context")
    func matricesPerHead() throws {
        let model = try makeModel(numHeads: 4)
        let matrices = model.attentionMatrices(for: [3, 1, 4, 1])
        #expect(matrices.count == 4)
        for matrix in matrices {
            #expect(matrix.size == 4)
            #expect(matrix.isCausal)
            #expect(matrix.maxRowSumDeviation < 1e-6)
        }
        let stages = model.attentionStages([3, 1, 4, 1, 5, 2, 6, 5], shape: [2, 4])
        #expect(stages.attention.shape == [2, 4, 4, 4])
        #expect(stages.output.shape == [2, 4, 8])
    }

    @Test("training lowers the loss")
    func trains() throws {
        let text = String(repeating: "the cat sat on the mat. the dog sat on the log. ", count: 12)
        let data = try TokenizedCorpus(text: text, valFraction: 0.1)
        var generator = SeededGenerator(seed: 4)
        let model = try MultiHeadLanguageModel(
            vocabSize: data.vocabSize, blockSize: 8, embedDim: 16, numHeads: 4, hiddenSize: 32, depth: 1,
            generator: &generator)
        let settings = ShortTraining(steps: 150, batchSize: 8, learningRate: 1e-2, evalInterval: 150, evalBatches: 4)
        let curve = try train(model, on: data.dataset, settings: settings, generator: &generator)
        // Starts at about ln(vocabSize) = ln 15 ≈ 2.71; measured after 150 steps: 1.29.
        #expect(abs(curve.train[0] - Float(log(Double(data.vocabSize)))) < 0.05)
        #expect(curve.finalTrain < 1.6)
    }
}

@Suite("Head reports")
struct HeadReportTests {
    /// Returns a matrix whose row t puts all its weight on position t − lag, or on 0 when t < lag.
    func lagMatrix(size: Int, lag: Int) -> AttentionMatrix {
        var values = [Float](repeating: 0, count: size * size)
        for t in 0..<size { values[t * size + max(t - lag, 0)] = 1 }
        return AttentionMatrix(size: size, values: values)
    }

    @Test("pattern table by hand")
    func patternTable() {
        // Rows 1…3 of a lag-1 matrix: own 0, previous 1, distance 1. Lag 0: own 1, distance 0.
        // Lag 2: rows 1, 2, 3 look back 1, 2, 2 positions (row 1 clamps to 0), so the mean is 5/3.
        let table = headPatternTable([("", [lagMatrix(size: 4, lag: 0), lagMatrix(size: 4, lag: 1), lagMatrix(size: 4, lag: 2)])])
        let lines = table.render().components(separatedBy: "\n")
        #expect(lines.count == 5)
        #expect(lines[2].split(separator: "│").map { $0.trimmingCharacters(in: .whitespaces) } == ["1", "1.00", "0.00", "0.00"])
        #expect(lines[3].split(separator: "│").map { $0.trimmingCharacters(in: .whitespaces) } == ["2", "0.00", "1.00", "1.00"])
        #expect(lines[4].split(separator: "│").map { $0.trimmingCharacters(in: .whitespaces) } == ["3", "0.00", "0.33", "1.67"])

        // Two models get a model column, named on each model's first row.
        let two = headPatternTable([("1 head", [lagMatrix(size: 4, lag: 1)]), ("2 heads", [lagMatrix(size: 4, lag: 0), lagMatrix(size: 4, lag: 2)])])
        let cells = two.render().components(separatedBy: "\n").dropFirst(2).map {
            $0.split(separator: "│").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        #expect(cells == [
            ["1 head", "1", "0.00", "1.00", "1.00"], ["2 heads", "1", "1.00", "0.00", "0.00"], ["", "2", "0.00", "0.33", "1.67"],
        ])
    }

    @Test("heatmaps side by side or stacked")
    func sideBySide() {
        let matrices = [lagMatrix(size: 3, lag: 0), lagMatrix(size: 3, lag: 1)]
        let tokens = ["a", "b", "c"]
        // Each heatmap is 12 columns wide with row labels ("2 c" and 3 cells of " ██") and 9 without,
        // so with the gap of 3 the pair needs 24 columns.
        let wide = sideBySideHeatmaps(matrices, tokens: tokens, width: 24, style: .shades).components(separatedBy: "\n")
        #expect(wide[0] == "head 1         head 2")
        #expect(wide[1] == "     a  b  c     a  b  c")
        #expect(wide[2] == "0 a ██          ██")
        #expect(wide[4] == "2 c       ██       ██")
        #expect(wide.count == 6)
        #expect(wide[5].hasPrefix("shades:"))

        // One column less and the second heatmap moves below the first, with its own row labels.
        let narrow = sideBySideHeatmaps(matrices, tokens: tokens, width: 23, style: .shades).components(separatedBy: "\n")
        #expect(narrow.count == 12)
        #expect(narrow[0] == "head 1")
        #expect(narrow[5] == "")
        #expect(narrow[6] == "head 2")
        #expect(narrow[7] == "     a  b  c")
        #expect(narrow[8] == "0 a ██")
        #expect(narrow[11].hasPrefix("shades:"))
    }

    @Test("shape table lists every stage")
    func shapeTableRows() throws {
        let x = randomInput([3, 5, 8], seed: 1)
        let fourHeads = try makeAttention(embedDim: 8, numHeads: 4).stages(x)
        let text = shapeTable([("4 heads", fourHeads)]).render()
        #expect(text.contains("[B, numHeads, T, headSize] │ [3, 4, 5, 2]"))
        #expect(text.contains("[B, numHeads, T, T]        │ [3, 4, 5, 5]"))
        #expect(text.contains("projection = output            │ [B, T, C]                  │ [3, 5, 8]"))
        #expect(text.hasPrefix("stage                          │ shape                      │ here"))

        let oneHead = try makeAttention(embedDim: 8, numHeads: 1).stages(x)
        let lines = shapeTable([("1 head", oneHead), ("4 heads", fourHeads)]).render().components(separatedBy: "\n")
        #expect(lines[0].hasSuffix("│ 1 head       │ 4 heads"))
        #expect(lines[3].hasSuffix("│ [3, 1, 5, 8] │ [3, 4, 5, 2]"))
        #expect(lines[9].hasSuffix("│ [3, 5, 8]    │ [3, 5, 8]"))
    }
}
