import BigramStep
import DatasetStep
import Foundation
import MLPStep
import MultiHeadAttentionStep
import SelfAttentionStep
import StepKit
import Tensor
import Testing
import TransformerBlockStep
import TransformerStep

/// A short English text for the training tests: long enough for a few hundred windows, small
/// enough that a run of a few hundred steps takes a moment.
let sampleText = """
    the river ran past the mill and the miller sat by the door. he watched the water turn the wheel \
    and the wheel turn the stone, and the stone grind the grain that the farmers brought in their carts. \
    in the evening the farmers came back for their flour, and the miller told them the news of the town. \
    the baker had a new oven, the smith had burned his hand, and the children had found a fox in the barn. \
    then the sun went down behind the hill, the water grew dark, and the wheel turned on in the night.
    """

/// Returns a GPT of the given sizes built from `seed`.
func makeGPT(
    vocabSize: Int = 11, blockSize: Int = 6, embedDim: Int = 16, numHeads: Int = 4, numLayers: Int = 2,
    dropout: Float = 0, bias: Bool = false, seed: UInt64 = 7
) throws -> GPT {
    var generator = SeededGenerator(seed: seed)
    let config = GPTConfig(
        vocabSize: vocabSize, blockSize: blockSize, embedDim: embedDim, numHeads: numHeads, numLayers: numLayers,
        dropout: dropout, bias: bias)
    return try GPT(config: config, generator: &generator)
}

/// Returns the number of values of every tensor in `namedParameters`, counted without the closed form.
func countedValues(_ model: some Module) -> Int {
    var total = 0
    for (_, tensor) in model.namedParameters { total += tensor.shape.reduce(1, *) }
    return total
}

func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

/// Sizes covering one and several layers, one and several heads, and a one-token context.
let configSizes: [(v: Int, t: Int, c: Int, heads: Int, layers: Int)] = [
    (5, 4, 8, 2, 1), (65, 8, 32, 4, 2), (10, 16, 16, 4, 4), (3, 1, 4, 1, 3), (40, 12, 24, 3, 6),
]

@Suite("GPT parameter count")
struct ParameterCountTests {
    @Test("closed form matches counting without biases")
    func closedFormWithoutBias() throws {
        for size in configSizes {
            let model = try makeGPT(
                vocabSize: size.v, blockSize: size.t, embedDim: size.c, numHeads: size.heads, numLayers: size.layers)
            #expect(countedValues(model) == model.config.parameterCount, "\(size)")
            #expect(model.parameterCount == model.config.parameterCount, "\(size)")
        }
        // By hand for V 5, T 4, C 8, L 1: 5·8 + 4·8 + (12·64 + 2·8) + 8 = 40 + 32 + 784 + 8.
        let small = try makeGPT(vocabSize: 5, blockSize: 4, embedDim: 8, numHeads: 2, numLayers: 1)
        #expect(countedValues(small) == 864)
    }

    @Test("closed form matches counting with biases")
    func closedFormWithBias() throws {
        for size in configSizes {
            let model = try makeGPT(
                vocabSize: size.v, blockSize: size.t, embedDim: size.c, numHeads: size.heads, numLayers: size.layers,
                bias: true)
            #expect(countedValues(model) == model.config.parameterCount, "\(size)")

            // The biases alone: 4·C in attention, 4·C + C in the MLP, 2·C in two LayerNorms per
            // block, and C in the final LayerNorm.
            let biasValues = model.namedParameters.filter { $0.name.hasSuffix(".bias") }.reduce(0) { $0 + $1.tensor.count }
            #expect(biasValues == size.layers * 11 * size.c + size.c, "\(size)")
        }
        // By hand for V 5, T 4, C 8, L 1: 864 without biases, plus 11·8 + 8 = 96.
        let small = try makeGPT(vocabSize: 5, blockSize: 4, embedDim: 8, numHeads: 2, numLayers: 1, bias: true)
        #expect(countedValues(small) == 960)
    }

    @Test("each layer adds 12·C² + 2·C")
    func layerIncrement() throws {
        for c in [8, 16, 32] {
            let two = try makeGPT(embedDim: c, numLayers: 2)
            let four = try makeGPT(embedDim: c, numLayers: 4)
            #expect(four.parameterCount - two.parameterCount == 2 * (12 * c * c + 2 * c), "C = \(c)")
        }
    }

    @Test("breakdown agrees component by component")
    func breakdownComponents() throws {
        for bias in [false, true] {
            for size in configSizes {
                let model = try makeGPT(
                    vocabSize: size.v, blockSize: size.t, embedDim: size.c, numHeads: size.heads,
                    numLayers: size.layers, bias: bias)
                let breakdown = ParameterBreakdown(model: model)
                let agrees = breakdown.agrees
                #expect(agrees, "\(size), bias \(bias)")
                #expect(breakdown.countedTotal == breakdown.expectedTotal, "\(size), bias \(bias)")
                for component in breakdown.components {
                    #expect(component.counted == component.expected, "\(component.name), \(size), bias \(bias)")
                }
                // Every parameter belongs to exactly one component.
                #expect(breakdown.components.reduce(0) { $0 + $1.counted } == countedValues(model), "\(size), bias \(bias)")
            }
        }
    }

    @Test("breakdown writes the formula out")
    func breakdownText() throws {
        let model = try makeGPT(vocabSize: 63, blockSize: 16, embedDim: 32, numHeads: 4, numLayers: 2)
        let breakdown = ParameterBreakdown(model: model)
        #expect(breakdown.formula == "V·C + T·C + L·(12·C² + 2·C) + C")
        #expect(breakdown.filledIn == "63·32 + 16·32 + 2·(12·32² + 2·32) + 32")
        #expect(breakdown.workedOut == "2,016 + 512 + 2·(12,288 + 64) + 32")
        #expect(breakdown.expectedTotal == 27_264)

        let withBias = ParameterBreakdown(model: try makeGPT(vocabSize: 63, blockSize: 16, embedDim: 32, numLayers: 2, bias: true))
        #expect(withBias.formula == "V·C + T·C + L·(12·C² + 2·C) + C + L·11·C + C")
        #expect(withBias.expectedTotal == 27_264 + 2 * 11 * 32 + 32)
    }

    @Test("training FLOPs match a hand count")
    func trainingFLOPs() {
        // 864 parameters, 832 of them weights outside the position table; 2·4 tokens per step:
        // 8 · (6·832 + 12·1·4·8) = 43,008.
        let config = GPTConfig(vocabSize: 5, blockSize: 4, embedDim: 8, numHeads: 2, numLayers: 1)
        #expect(config.trainingFLOPs(batchSize: 2) == 43_008)
    }
}

@Suite("GPT determinism")
struct DeterminismTests {
    let ids = [1, 4, 2, 8, 5, 7, 3, 0, 9, 10, 6, 2]

    @Test("same seed gives bit-identical logits")
    func sameSeed() throws {
        let a = try makeGPT(seed: 11), b = try makeGPT(seed: 11)
        let logitsA = Tensor.withoutGradients { a.logits(ids, shape: [2, 6]) }
        let logitsB = Tensor.withoutGradients { b.logits(ids, shape: [2, 6]) }
        #expect(bits(logitsA.data) == bits(logitsB.data))
    }

    @Test("different seed gives different logits")
    func differentSeed() throws {
        let a = try makeGPT(seed: 11), b = try makeGPT(seed: 12)
        let logitsA = Tensor.withoutGradients { a.logits(ids, shape: [2, 6]) }
        let logitsB = Tensor.withoutGradients { b.logits(ids, shape: [2, 6]) }
        let largest = zip(logitsA.data, logitsB.data).map { abs($0 - $1) }.max() ?? 0
        #expect(largest > 1e-3)
    }
}

@Suite("GPT is a stack of step 07 blocks")
struct StackTests {
    @Test("blocks have the structure of one step 07 block")
    func blockStructure() throws {
        for bias in [false, true] {
            let model = try makeGPT(embedDim: 16, numHeads: 4, numLayers: 3, bias: bias)
            #expect(model.blocks.count == 3)

            var generator = SeededGenerator(seed: 99)
            let reference = try TransformerBlock(embedDim: 16, numHeads: 4, bias: bias, generator: &generator)
            let referenceLayout = reference.namedParameters.map { "\($0.name) \($0.tensor.shape)" }
            for (index, block) in model.blocks.enumerated() {
                #expect(type(of: block) == TransformerBlock.self)
                #expect(block.namedParameters.map { "\($0.name) \($0.tensor.shape)" } == referenceLayout, "block \(index)")
                #expect(block.normPlacement == .preNorm)
                #expect(block.usesResidual)
            }
            // Copies, not one block used three times: each has its own weights.
            #expect(model.blocks[0] !== model.blocks[1])
            #expect(model.blocks[0].attention.query.weight.data != model.blocks[1].attention.query.weight.data)
        }
    }

    @Test("two layers equal two hand-applied blocks")
    func handAppliedBlocks() throws {
        let (v, t, c, batch) = (11, 5, 16, 2)
        let model = try makeGPT(vocabSize: v, blockSize: t, embedDim: c, numHeads: 4, numLayers: 2, seed: 21)
        model.setTraining(false)
        let ids = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]

        // Two separate step 07 blocks, given the GPT's block weights.
        var generator = SeededGenerator(seed: 1234)
        let blocks = try (0..<2).map { _ in try TransformerBlock(embedDim: c, numHeads: 4, generator: &generator) }
        for (block, source) in zip(blocks, model.blocks) {
            for (target, original) in zip(block.namedParameters, source.namedParameters) {
                #expect(target.name == original.name)
                target.tensor.data = original.tensor.data
            }
        }

        // Embedding by hand: token row + position row.
        let tokens = model.embedding.tokenEmbedding.weight.data
        let positions = model.embedding.positionEmbedding!.weight.data
        var embedded = [Float](repeating: 0, count: batch * t * c)
        for b in 0..<batch {
            for p in 0..<t {
                for k in 0..<c {
                    embedded[(b * t + p) * c + k] = tokens[ids[b * t + p] * c + k] + positions[p * c + k]
                }
            }
        }
        let x = Tensor.withoutGradients { blocks[1](blocks[0](Tensor(shape: [batch, t, c], data: embedded))) }

        // Final LayerNorm and the tied head by hand, in Double.
        let gain = model.finalNorm.gain.data
        var expected: [Double] = []
        for row in 0..<(batch * t) {
            let vector = (0..<c).map { Double(x.data[row * c + $0]) }
            let mean = vector.reduce(0, +) / Double(c)
            let variance = vector.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(c)
            let normed = (0..<c).map { (vector[$0] - mean) / (variance + 1e-5).squareRoot() * Double(gain[$0]) }
            for token in 0..<v {
                expected.append((0..<c).reduce(0.0) { $0 + normed[$1] * Double(tokens[token * c + $1]) })
            }
        }

        let logits = Tensor.withoutGradients { model.logits(ids, shape: [batch, t]) }
        #expect(logits.shape == [batch, t, v])
        let largest = zip(logits.data, expected).map { abs(Double($0) - $1) }.max() ?? .infinity
        #expect(largest < 1e-6)

        // The comparison can fail: one block alone gives other logits.
        let oneBlock = Tensor.withoutGradients { blocks[0](Tensor(shape: [batch, t, c], data: embedded)) }
        let differences = zip(oneBlock.data, x.data).map { abs($0 - $1) }.max() ?? 0
        #expect(differences > 1e-3)
    }

    @Test("residual projections start scaled by 1/√(2L)")
    func residualScaling() throws {
        let layers = 4
        let model = try makeGPT(vocabSize: 11, blockSize: 6, embedDim: 64, numHeads: 4, numLayers: layers, seed: 5)
        func standardDeviation(_ tensors: [Tensor]) -> Double {
            let values = tensors.flatMap(\.data).map(Double.init)
            let mean = values.reduce(0, +) / Double(values.count)
            return (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
        }
        let scaled = 0.02 / (2.0 * Double(layers)).squareRoot()
        let projections = standardDeviation(model.blocks.map(\.attention.projection.weight))
        let mlpOutputs = standardDeviation(model.blocks.map { $0.mlp.layers[1].weight })
        let queries = standardDeviation(model.blocks.map(\.attention.query.weight))
        let mlpInputs = standardDeviation(model.blocks.map { $0.mlp.layers[0].weight })
        // 16,384 values per group: the sample deviation is within 3% of the true one.
        #expect(abs(projections / scaled - 1) < 0.03, "attention projection std \(projections), expected \(scaled)")
        #expect(abs(mlpOutputs / scaled - 1) < 0.03, "MLP output std \(mlpOutputs), expected \(scaled)")
        #expect(abs(queries / 0.02 - 1) < 0.03, "query std \(queries), expected 0.02")
        #expect(abs(mlpInputs / 0.02 - 1) < 0.03, "MLP input std \(mlpInputs), expected 0.02")
    }

    @Test("head count that does not divide C throws")
    func invalidHeads() {
        #expect(throws: AttentionConfigurationError.self) {
            _ = try makeGPT(embedDim: 16, numHeads: 3)
        }
    }
}

@Suite("GPT tied head")
struct TiedHeadTests {
    @Test("head weight is the token table")
    func sameTensor() throws {
        let model = try makeGPT(vocabSize: 11, embedDim: 16)
        #expect(model.headWeight === model.embedding.tokenEmbedding.weight)

        // Listed once: exactly one parameter has the table's shape, and it is the table.
        let tables = model.namedParameters.filter { $0.tensor.shape == [11, 16] }
        #expect(tables.count == 1)
        #expect(tables.first?.name == "embedding.tokenEmbedding.weight")
        #expect(tables.first?.tensor === model.embedding.tokenEmbedding.weight)
    }

    @Test("head gradient reaches tokens outside the input")
    func gradientThroughHead() throws {
        // Ids 1 and 2 are the only inputs and 3 the only target. The token table's rows of 5 to 10
        // are read by no embedding lookup, so only the head can give them a gradient.
        let model = try makeGPT(vocabSize: 11, blockSize: 4, embedDim: 16)
        let batch = Batch(inputs: [1, 2, 1, 2], targets: [3, 3, 3, 3], batchSize: 1, blockSize: 4)
        model.zeroGrad()
        model.loss(on: batch).backward()
        let gradient = try #require(model.embedding.tokenEmbedding.weight.grad)
        for token in 5..<11 {
            let row = gradient[(token * 16)..<((token + 1) * 16)]
            #expect(row.contains { $0 != 0 }, "token \(token) got no gradient")
        }
    }
}

@Suite("GPT training")
struct TrainingTests {
    @Test("short training falls well below ln(V)")
    func shortTraining() throws {
        let data = try TokenizedCorpus(text: sampleText, valFraction: 0.1)
        let model = try makeGPT(vocabSize: data.vocabSize, blockSize: 8, embedDim: 16, numHeads: 2, numLayers: 2, seed: 3)
        var generator = SeededGenerator(seed: 3)
        let settings = ShortTraining(steps: 200, batchSize: 8, learningRate: 1e-2, evalInterval: 200, evalBatches: 8)
        let curve = try train(model, on: data.dataset, settings: settings, generator: &generator)
        let uniform = Float(Foundation.log(Double(data.vocabSize)))
        #expect(abs(curve.train[0] - uniform) < 0.1, "untrained loss \(curve.train[0]), ln(V) \(uniform)")
        #expect(curve.finalTrain < uniform - 1.0, "train loss \(curve.finalTrain), ln(V) \(uniform)")
        #expect(curve.finalValidation < uniform - 0.8, "validation loss \(curve.finalValidation), ln(V) \(uniform)")
    }

    @Test("dropout is active only while training")
    func dropoutMode() throws {
        let ids = [1, 4, 2, 8, 5, 7]
        let noisy = try makeGPT(dropout: 0.5, seed: 4)
        let plain = try makeGPT(dropout: 0, seed: 4)

        noisy.setTraining(true)
        let first = Tensor.withoutGradients { noisy.logits(ids, shape: [1, 6]) }
        let second = Tensor.withoutGradients { noisy.logits(ids, shape: [1, 6]) }
        #expect(bits(first.data) != bits(second.data))
        #expect(noisy.blocks.allSatisfy { $0.isTraining })

        noisy.setTraining(false)
        plain.setTraining(false)
        #expect(noisy.blocks.allSatisfy { !$0.isTraining })
        let evaluated = Tensor.withoutGradients { noisy.logits(ids, shape: [1, 6]) }
        let reference = Tensor.withoutGradients { plain.logits(ids, shape: [1, 6]) }
        #expect(bits(evaluated.data) == bits(reference.data))
    }
}

@Suite("Loss ladder")
struct LadderTests {
    @Test("bigram adapter reads one token")
    func bigramAdapter() throws {
        let vocabulary = try BigramVocabulary(text: "abcde")
        let model = BigramLanguageModel(vocabulary: vocabulary, blockSize: 4)
        for i in 0..<model.bigram.table.count { model.bigram.table.data[i] = Float(i % 7) * 0.3 - Float(i % 3) }
        let original = Tensor.withoutGradients { model.logits([0, 1, 2, 3], shape: [1, 4]) }
        let changed = Tensor.withoutGradients { model.logits([4, 4, 4, 3], shape: [1, 4]) }
        #expect(original.shape == [1, 4, 5])
        #expect(bits(Array(original.data[15..<20])) == bits(Array(changed.data[15..<20])))
        #expect(bits(Array(original.data[0..<5])) != bits(Array(changed.data[0..<5])))
        // Row t is the table row of the id at t.
        #expect(bits(Array(original.data[10..<15])) == bits(Array(model.bigram.table.data[10..<15])))
    }

    @Test("whole-split loss averages every target once")
    func wholeSplitLoss() throws {
        let vocabulary = try BigramVocabulary(text: "abc")
        let model = BigramLanguageModel(vocabulary: vocabulary, blockSize: 3)
        let table: [Float] = [0.5, -1, 2, 0, 0.25, -0.5, 1.5, 1, -2]
        model.bigram.table.data = table
        // 10 ids hold 3 windows of 3 inputs, which together predict ids[1...9], each once.
        let ids = [0, 1, 2, 2, 0, 1, 1, 0, 2, 1]
        var expected = 0.0
        for position in 1..<ids.count {
            let row = (0..<3).map { Double(table[ids[position - 1] * 3 + $0]) }
            let logTotal = Foundation.log(row.map(Foundation.exp).reduce(0, +))
            expected += logTotal - row[ids[position]]
        }
        expected /= 9
        for windowsPerBatch in [1, 2, 256] {
            let loss = model.wholeSplitLoss(on: ids, windowsPerBatch: windowsPerBatch)
            #expect(abs(Double(loss) - expected) < 1e-6, "windowsPerBatch \(windowsPerBatch): \(loss) vs \(expected)")
        }
        // The last id after the final complete window is left out: 11 ids still hold 3 windows.
        let longer = model.wholeSplitLoss(on: ids + [0])
        #expect(abs(Double(longer) - expected) < 1e-6)
    }

    @Test("rungs are the steps' models")
    func rungModels() throws {
        let settings = LadderSettings(steps: 1, batchSize: 4, blockSize: 8, embedDim: 16, numHeads: 4, numLayers: 2)
        let ladder = try LossLadder(text: sampleText, settings: settings)
        var generator = SeededGenerator(seed: 1)
        #expect(try ladder.makeModel(.bigram, generator: &generator) is BigramLanguageModel)
        #expect(try ladder.makeModel(.mlp, generator: &generator) is MLPLanguageModel)
        #expect(try ladder.makeModel(.singleHead, generator: &generator) is AttentionLanguageModel)
        #expect(try ladder.makeModel(.multiHead, generator: &generator) is MultiHeadLanguageModel)
        #expect(try ladder.makeModel(.block, generator: &generator) is BlockLanguageModel)
        let gpt = try #require(try ladder.makeModel(.transformer, generator: &generator) as? GPT)
        #expect(gpt.blocks.count == 2)
        #expect(LadderRung.allCases.map(\.step) == [0, 4, 5, 6, 7, 8])
    }

    @Test("bigram split cuts the text where the others do")
    func bigramSplit() throws {
        let ladder = try LossLadder(text: sampleText, settings: LadderSettings(steps: 1))
        let bigramValidation = ladder.bigramVocabulary.text(for: ladder.bigramDataset.validation)
        let validation = try ladder.data.tokenizer.decode(ladder.data.dataset.validation)
        #expect(bigramValidation == validation)
        #expect(!validation.isEmpty)
    }

    @Test("runs repeat and training lowers the loss")
    func runRepeats() throws {
        let settings = LadderSettings(steps: 60, batchSize: 8, blockSize: 8, embedDim: 16, numHeads: 4, numLayers: 1, learningRate: 1e-2, evalInterval: 60, evalBatches: 2)
        let ladder = try LossLadder(text: sampleText, settings: settings)
        let uniform = Float(Foundation.log(Double(ladder.data.vocabSize)))
        for rung in [LadderRung.bigram, .transformer] {
            let first = try ladder.run(rung, seed: 9)
            let second = try ladder.run(rung, seed: 9)
            #expect(first.validationLoss.bitPattern == second.validationLoss.bitPattern, "\(rung)")
            #expect(first.trainLoss < uniform - 0.3, "\(rung): train loss \(first.trainLoss), ln(V) \(uniform)")
        }
    }
}
