import DatasetStep
import Foundation
import MLPStep
import MultiHeadAttentionStep
import StepKit
import Tensor
import Testing
import TransformerBlockStep

func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

/// Returns a tensor of normal draws with standard deviation `std` around `mean`.
func randomInput(_ shape: [Int], seed: UInt64, mean: Float = 0, std: Float = 1, requiresGrad: Bool = false) -> Tensor {
    var generator = SeededGenerator(seed: seed)
    let values = Tensor.randomNormal(shape, std: std, generator: &generator).data.map { $0 + mean }
    return Tensor(shape: shape, data: values, requiresGrad: requiresGrad)
}

/// Returns a block of width 8 with 2 heads, wired as `wiring`.
func makeBlock(_ wiring: BlockWiring = .preNorm, seed: UInt64 = 3) throws -> TransformerBlock {
    var generator = SeededGenerator(seed: seed)
    return try TransformerBlock(
        embedDim: 8, numHeads: 2, usesResidual: wiring.usesResidual, normPlacement: wiring.normPlacement,
        generator: &generator)
}

/// Sets the weights of the two layers that write a sublayer's result to 0: the attention projection
/// and the MLP's output layer. Both sublayers then output exactly 0 for any input.
func silenceSublayers(of block: TransformerBlock) {
    block.attention.projection.weight.data = [Float](repeating: 0, count: block.attention.projection.weight.count)
    let output = block.mlp.layers[block.mlp.layers.count - 1]
    output.weight.data = [Float](repeating: 0, count: output.weight.count)
}

/// Returns the mean and the biased variance of each row of the last axis.
func rowStatistics(_ tensor: Tensor) -> [(mean: Double, variance: Double)] {
    let width = tensor.shape[tensor.rank - 1]
    return stride(from: 0, to: tensor.count, by: width).map { start in
        let row = tensor.data[start..<(start + width)].map(Double.init)
        let mean = row.reduce(0, +) / Double(width)
        let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(width)
        return (mean, variance)
    }
}

@Suite("LayerNorm")
struct LayerNormTests {
    @Test("each position gets mean 0 and variance 1")
    func normalizesRows() {
        // Rows with means around 5 and spreads around 3, far from the target.
        let norm = LayerNorm(dimension: 8)
        let output = norm(randomInput([2, 4, 8], seed: 1, mean: 5, std: 3))
        for (index, row) in rowStatistics(output).enumerated() {
            #expect(abs(row.mean) < 1e-6, "row \(index) has mean \(row.mean)")
            // ε = 1e-5 shrinks the variance by ε / (variance + ε), below 1e-5 for these rows.
            #expect(abs(row.variance - 1) < 1e-4, "row \(index) has variance \(row.variance)")
        }
    }

    @Test("hand-worked row")
    func handWorked() {
        // [1, 2, 3, 4]: mean 2.5, variance 1.25, so the output is (x − 2.5) / √(1.25 + 1e-5).
        let output = LayerNorm(dimension: 4)(Tensor(shape: [1, 4], data: [1, 2, 3, 4]))
        let deviation = (1.25 + 1e-5).squareRoot()
        let expected = [-1.5, -0.5, 0.5, 1.5].map { Float($0 / deviation) }
        for (actual, value) in zip(output.data, expected) {
            #expect(abs(actual - value) < 1e-6)
        }
    }
}

@Suite("Transformer block")
struct TransformerBlockTests {
    @Test("block wiring by hand")
    func wiringByHand() throws {
        // The block's output, rebuilt from its own sublayers for each wiring.
        let x = randomInput([2, 5, 8], seed: 2)
        for wiring in [BlockWiring.preNorm, .noResidual, .postNorm, BlockWiring(usesResidual: false, normPlacement: .postNorm)] {
            let block = try makeBlock(wiring)
            let attention = { (input: Tensor) in block.attention(input).output }
            let expected: Tensor
            switch (wiring.usesResidual, wiring.normPlacement) {
            case (true, .preNorm):
                let h = x + attention(block.norm1(x))
                expected = h + block.mlp(block.norm2(h))
            case (false, .preNorm):
                expected = block.mlp(block.norm2(attention(block.norm1(x))))
            case (true, .postNorm):
                let h = block.norm1(x + attention(x))
                expected = block.norm2(h + block.mlp(h))
            case (false, .postNorm):
                expected = block.norm2(block.mlp(block.norm1(attention(x))))
            }
            #expect(bits(block(x).data) == bits(expected.data), "\(wiring.label)")
        }
    }

    @Test("removing the residual changes the output")
    func residualChangesForward() throws {
        // Same weights, only the wiring differs. With the residual the output stays close to x,
        // because the sublayers' outputs start small. Without it, x is gone from the output.
        let x = randomInput([2, 5, 8], seed: 4)
        let block = try makeBlock(.preNorm)
        let withResidual = block(x)
        block.usesResidual = false
        let without = block(x)

        let distance = { (a: Tensor, b: Tensor) in zip(a.data, b.data).map { Double(abs($0 - $1)) }.max() ?? 0 }
        #expect(distance(withResidual, x) < 0.2)
        #expect(distance(without, x) > 1)
        #expect(rootMeanSquare(without) < 0.1 * rootMeanSquare(x))
    }

    @Test("residual carries the gradient exactly")
    func residualPassesGradient() throws {
        // With both sublayers silenced, the pre-norm block is x + 0 + 0: the input's gradient must be
        // the upstream gradient, bit for bit. Without the residual, the output is 0 for every input,
        // so the gradient that reaches the input is 0.
        let upstream = randomInput([2, 5, 8], seed: 5).data

        let block = try makeBlock(.preNorm)
        silenceSublayers(of: block)
        let x = randomInput([2, 5, 8], seed: 6, requiresGrad: true)
        let output = block(x)
        #expect(bits(output.data) == bits(x.data))
        output.backward(seed: upstream)
        #expect(bits(x.grad ?? []) == bits(upstream))

        block.usesResidual = false
        let y = randomInput([2, 5, 8], seed: 6, requiresGrad: true)
        let silent = block(y)
        #expect(silent.data.allSatisfy { $0 == 0 })
        silent.backward(seed: upstream)
        #expect((y.grad ?? []).allSatisfy { $0 == 0 })
    }

    @Test("post-norm passes the gradient through LayerNorm")
    func postNormGradient() throws {
        // The silenced post-norm block is LayerNorm(LayerNorm(x)). Its input gradient is not the
        // upstream gradient: each LayerNorm removes the gradient's mean over the channels, so every
        // position's gradient sums to 0 although the upstream gradient's do not.
        let upstream = randomInput([2, 5, 8], seed: 7, mean: 0.5).data
        let block = try makeBlock(.postNorm)
        silenceSublayers(of: block)
        let x = randomInput([2, 5, 8], seed: 8, requiresGrad: true)
        block(x).backward(seed: upstream)
        let gradient = x.grad ?? []
        #expect(gradient.count == 80)
        for position in 0..<10 {
            let sum = gradient[(position * 8)..<((position + 1) * 8)].reduce(0, +)
            let upstreamSum = upstream[(position * 8)..<((position + 1) * 8)].reduce(0, +)
            #expect(abs(sum) < 1e-5, "position \(position): gradient sums to \(sum)")
            #expect(abs(upstreamSum) > 0.1, "position \(position): upstream sums to \(upstreamSum)")
        }
    }

    @Test("only post-norm rows are normalised")
    func outputStatistics() throws {
        // The input rows have mean about 5. A post-norm block ends in LayerNorm (gain 1, no bias), so
        // every output row has mean 0 and variance 1. A pre-norm block adds small updates to x, so its
        // rows keep x's mean.
        let x = randomInput([2, 5, 8], seed: 9, mean: 5, std: 2)
        let post = try makeBlock(.postNorm)(x)
        for (index, row) in rowStatistics(post).enumerated() {
            #expect(abs(row.mean) < 1e-5, "post-norm row \(index) has mean \(row.mean)")
            #expect(abs(row.variance - 1) < 1e-4, "post-norm row \(index) has variance \(row.variance)")
        }
        let pre = try makeBlock(.preNorm)(x)
        for (index, row) in rowStatistics(pre).enumerated() {
            #expect(abs(row.mean) > 3, "pre-norm row \(index) has mean \(row.mean)")
        }
    }

    @Test("parameter count is 12·C² + 2·C")
    func parameterCount() throws {
        // Query, key, value and projection: 4·C². MLP C → 4C → C: 8·C². Two LayerNorm gains: 2·C.
        for wiring in [BlockWiring.preNorm, .noResidual, .postNorm] {
            #expect(try makeBlock(wiring).parameterCount == 12 * 64 + 2 * 8)
        }
    }

    @Test("bad head count is rejected")
    func badHeads() {
        var generator = SeededGenerator(seed: 1)
        #expect(throws: AttentionConfigurationError.self) {
            _ = try TransformerBlock(embedDim: 8, numHeads: 3, generator: &generator)
        }
        #expect(throws: AttentionConfigurationError.self) {
            _ = try BlockLanguageModel(vocabSize: 5, blockSize: 4, embedDim: 8, numHeads: 0, generator: &generator)
        }
    }
}

@Suite("Block language model")
struct BlockLanguageModelTests {
    func makeModel(numLayers: Int = 2, wiring: BlockWiring = .preNorm, seed: UInt64 = 5) throws -> BlockLanguageModel {
        var generator = SeededGenerator(seed: seed)
        return try BlockLanguageModel(
            vocabSize: 9, blockSize: 6, embedDim: 8, numHeads: 2, numLayers: numLayers,
            usesResidual: wiring.usesResidual, normPlacement: wiring.normPlacement, generator: &generator)
    }

    @Test("parameter count by hand")
    func parameterCount() throws {
        // V·C + T·C + L·(12·C² + 2·C) + final LayerNorm 2·C (gain and bias) + head C·V + V.
        for numLayers in [1, 3] {
            let expected = 9 * 8 + 6 * 8 + numLayers * (12 * 64 + 16) + 16 + 8 * 9 + 9
            #expect(try makeModel(numLayers: numLayers).parameterCount == expected)
            #expect(try makeModel(numLayers: numLayers).blocks.count == numLayers)
        }
    }

    @Test("later tokens leave earlier logits unchanged")
    func causal() throws {
        for wiring in [BlockWiring.preNorm, .noResidual, .postNorm] {
            let model = try makeModel(wiring: wiring)
            let context = [3, 1, 4, 1, 5, 2]
            let original = Tensor.withoutGradients { model.logits(context, shape: [1, 6]) }
            var other = context
            other[4] = 8
            let changed = Tensor.withoutGradients { model.logits(other, shape: [1, 6]) }
            #expect(bits(Array(changed.data[..<(4 * 9)])) == bits(Array(original.data[..<(4 * 9)])), "\(wiring.label)")
            #expect(bits(Array(changed.data[(4 * 9)...])) != bits(Array(original.data[(4 * 9)...])), "\(wiring.label)")
        }
    }

    @Test("measurements match a manual backward pass")
    func measurements() throws {
        let model = try makeModel(numLayers: 3)
        let batch = Batch(inputs: [3, 1, 4, 1, 5, 2, 6, 5, 3, 5, 8, 7], targets: [1, 4, 1, 5, 2, 6, 5, 3, 5, 8, 7, 0], batchSize: 2, blockSize: 6)
        let measured = model.layerMeasurements(on: batch)
        #expect(measured.map(\.layer) == ["embedding", "block 1", "block 2", "block 3", "norm + head"])
        #expect(model.parameters.allSatisfy { $0.grad == nil }, "the gradients are cleared afterwards")

        // The same loss by hand; block 2's gradient norm, summed over its parameters in Double.
        let loss = Tensor.crossEntropy(logits: model.logits(batch.inputs, shape: batch.shape), targets: batch.targets)
        loss.backward()
        var total = 0.0
        for parameter in model.blocks[1].parameters {
            for g in parameter.grad ?? [] { total += Double(g) * Double(g) }
        }
        #expect(abs(measured[2].gradientNorm - total.squareRoot()) < 1e-9)
        #expect(measured[2].gradientNorm > 0)

        // The output RMS of the embedding, by hand.
        let embedded = Tensor.withoutGradients { model.embedding(batch.inputs, shape: batch.shape) }
        let rms = (embedded.data.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(embedded.count)).squareRoot()
        #expect(abs((measured[0].outputRMS ?? 0) - rms) < 1e-12)
        #expect(measured[4].outputRMS == nil)
    }
}

@Suite("Wirings compared")
struct WiringComparisonTests {
    /// Trains a 4-block model of width 16 wired as `wiring` on a short repeated text and returns its
    /// measurements on one batch before and after, with the final training loss.
    func trainedStack(_ wiring: BlockWiring) throws -> (start: [LayerMeasurement], end: [LayerMeasurement], loss: Float, floor: Double) {
        let text = String(repeating: "the cat sat on the mat. the dog sat on the log. a bird sang in a tree. ", count: 8)
        let data = try TokenizedCorpus(text: text, valFraction: 0.1)
        var generator = SeededGenerator(seed: 42)
        let model = try BlockLanguageModel(
            vocabSize: data.vocabSize, blockSize: 8, embedDim: 16, numHeads: 2, numLayers: 4,
            usesResidual: wiring.usesResidual, normPlacement: wiring.normPlacement, generator: &generator)
        var batchGenerator = SeededGenerator(seed: 1)
        let batch = try TokenDataset.randomBatch(from: data.dataset.train, batchSize: 8, blockSize: 8, generator: &batchGenerator)
        let start = model.layerMeasurements(on: batch)
        let settings = ShortTraining(steps: 300, batchSize: 8, learningRate: 1e-2, evalInterval: 300, evalBatches: 4)
        let curve = try train(model, on: data.dataset, settings: settings, generator: &generator)
        return (start, model.layerMeasurements(on: batch), curve.finalTrain, data.unigramEntropy)
    }

    @Test("without residuals the stack stalls")
    func noResidualStalls() throws {
        let residual = try trainedStack(.preNorm)
        let none = try trainedStack(.noResidual)
        // Measured (seed 42): the pre-norm stack ends at 0.38, far below the unigram floor H(next) = 2.47,
        // and the stack without residuals at 2.53, just above it. After training its embedding
        // receives a gradient of norm 1.7e-8, against 0.89 with residuals. These values move a little
        // when the tensor kernels round differently, so the bounds leave wide margins.
        #expect(Double(residual.loss) < none.floor - 1)
        #expect(abs(Double(none.loss) - none.floor) < 0.1)
        #expect(none.end[0].gradientNorm < 1e-3 * residual.end[0].gradientNorm)
        // At the start both embeddings receive gradients of the same order (1.74 and 0.75), so the
        // difference comes from training.
        #expect(none.start[0].gradientNorm > 0.1 * residual.start[0].gradientNorm)
    }
}

@Suite("Unigram entropy")
struct UnigramEntropyTests {
    @Test("hand-worked frequencies")
    func handWorked() throws {
        // "aaab" with no validation split: p(a) = 3/4, p(b) = 1/4.
        let data = try TokenizedCorpus(text: "aaab", valFraction: 0)
        let expected = -(0.75 * log(0.75) + 0.25 * log(0.25))
        #expect(abs(data.unigramEntropy - expected) < 1e-12)
    }
}

@Suite("Wiring report")
struct WiringReportTests {
    /// Returns the cells of each row of a rendered table, below its header and rule.
    func cells(_ table: Table) -> [[String]] {
        table.render().components(separatedBy: "\n").dropFirst(2).map {
            $0.split(separator: "│").map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    @Test("loss table puts runs side by side")
    func lossTable() {
        var first = LossCurve()
        first.steps = [0, 100]
        first.train = [4, 2.5]
        first.validation = [4, 2.75]
        var second = first
        second.train = [4.125, 3]
        let table = trainLossTable([("pre-norm", first), ("no residual", second)])
        #expect(table.columns.map(\.header) == ["step", "pre-norm", "no residual"])
        #expect(cells(table) == [["0", "4.0000", "4.1250"], ["100", "2.5000", "3.0000"]])
    }

    @Test("gradient table has start and end per run")
    func gradientColumns() {
        let start = [
            LayerMeasurement(layer: "embedding", gradientNorm: 0.5, outputRMS: 0.02),
            LayerMeasurement(layer: "block 1", gradientNorm: 0.25, outputRMS: 1),
            LayerMeasurement(layer: "norm + head", gradientNorm: 0.125, outputRMS: nil),
        ]
        let end = start.map { LayerMeasurement(layer: $0.layer, gradientNorm: $0.gradientNorm / 1000, outputRMS: $0.outputRMS.map { $0 * 2 }) }
        let gradients = gradientTable([("post-norm", start, end)])
        #expect(gradients.columns.map(\.header) == ["layer", "post-norm start", "post-norm end"])
        #expect(cells(gradients) == [["embedding", "0.5", "0.0005"], ["block 1", "0.25", "0.00025"], ["norm + head", "0.125", "0.000125"]])

        // The head's output is the logits, so the RMS table leaves it out.
        let sizes = outputSizeTable([("post-norm", start, end)])
        #expect(cells(sizes) == [["embedding", "0.02", "0.04"], ["block 1", "1", "2"]])
    }
}
