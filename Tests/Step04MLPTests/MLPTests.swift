import DatasetStep
import Foundation
import MLPStep
import StepKit
import Tensor
import Testing

/// A short English text for the training tests: long enough for a few hundred windows, small
/// enough that a run of a hundred steps takes a moment.
let sampleText = """
    the river ran past the mill and the miller sat by the door. he watched the water turn the wheel \
    and the wheel turn the stone, and the stone grind the grain that the farmers brought in their carts. \
    in the evening the farmers came back for their flour, and the miller told them the news of the town. \
    the baker had a new oven, the smith had burned his hand, and the children had found a fox in the barn. \
    then the sun went down behind the hill, the water grew dark, and the wheel turned on in the night.
    """

/// Returns a small model with fixed sizes; only `depth` and the seed vary between tests.
func makeModel(vocabSize: Int = 9, blockSize: Int = 6, embedDim: Int = 8, hiddenSize: Int = 12, depth: Int = 2, seed: UInt64 = 7) -> MLPLanguageModel {
    var generator = SeededGenerator(seed: seed)
    return MLPLanguageModel(
        vocabSize: vocabSize, blockSize: blockSize, embedDim: embedDim, hiddenSize: hiddenSize, depth: depth,
        generator: &generator)
}

/// Returns the logits row `[vocabSize]` of position `t` in sequence 0 of logits `[1, T, vocabSize]`.
func logitsRow(_ logits: Tensor, position t: Int) -> [Float] {
    let vocabSize = logits.shape[2]
    return Array(logits.data[(t * vocabSize)..<((t + 1) * vocabSize)])
}

func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

@Suite("MLP language model")
struct MLPLanguageModelTests {
    @Test("logits at t ignore every other position")
    func positionsAreIndependent() {
        let model = makeModel()
        let context = [3, 1, 4, 1, 5, 2]
        let original = Tensor.withoutGradients { model.logits(context, shape: [1, 6]) }

        for changed in 0..<context.count {
            var other = context
            other[changed] = (context[changed] + 3) % 9
            let logits = Tensor.withoutGradients { model.logits(other, shape: [1, 6]) }
            for t in 0..<context.count where t != changed {
                #expect(bits(logitsRow(logits, position: t)) == bits(logitsRow(original, position: t)),
                        "changing position \(changed) changed the logits at position \(t)")
            }
            // The check above can fail: the changed position's own logits do move.
            #expect(bits(logitsRow(logits, position: changed)) != bits(logitsRow(original, position: changed)))
        }
    }

    @Test("independence holds inside a batch")
    func batchRowsAreIndependent() {
        // Sequence 1 differs from sequence 0 at every position but 2, so position 2 of both must get
        // the same logits. They sit in different rows of one matrix product, which a blocked GEMM
        // may sum in a different order, so this compares with a tolerance instead of bit for bit.
        let model = makeModel()
        let ids = [3, 1, 4, 1, 5, 2, 8, 7, 4, 6, 0, 5]
        let logits = Tensor.withoutGradients { model.logits(ids, shape: [2, 6]) }
        let vocabSize = 9
        let row0 = Array(logits.data[(2 * vocabSize)..<(3 * vocabSize)])
        let row1 = Array(logits.data[((6 + 2) * vocabSize)..<((6 + 3) * vocabSize)])
        for (a, b) in zip(row0, row1) {
            #expect(abs(a - b) <= 1e-6 * max(1, abs(a)))
        }
        // Position 3 differs between the sequences, so its logits differ.
        let other0 = Array(logits.data[(3 * vocabSize)..<(4 * vocabSize)])
        let other1 = Array(logits.data[((6 + 3) * vocabSize)..<((6 + 4) * vocabSize)])
        #expect(zip(other0, other1).contains { $0 != $1 })
    }

    @Test("each extra layer adds H·H + H parameters")
    func depthParameterCount() {
        let hidden = 12
        for (shallow, deep) in [(1, 2), (2, 4), (3, 7)] {
            let difference = makeModel(hiddenSize: hidden, depth: deep).parameterCount
                - makeModel(hiddenSize: hidden, depth: shallow).parameterCount
            #expect(difference == (deep - shallow) * (hidden * hidden + hidden), "depth \(shallow) → \(deep)")
        }
    }

    @Test("parameter count matches the formula")
    func parameterCountFormula() {
        // V·C + T·C (embeddings) + C·H + H (first layer) + (depth − 1)·(H·H + H) + H·V + V (head).
        let (v, t, c, h) = (9, 6, 8, 12)
        for depth in 1...4 {
            let expected = v * c + t * c + (c * h + h) + (depth - 1) * (h * h + h) + (h * v + v)
            #expect(makeModel(vocabSize: v, blockSize: t, embedDim: c, hiddenSize: h, depth: depth).parameterCount == expected)
        }
    }

    @Test("depth sets the number of hidden layers")
    func depthSetsLayers() {
        let model = makeModel(depth: 3)
        #expect(model.hidden.layers.count == 3)
        #expect(model.hidden.layers.map(\.weight.shape) == [[12, 8], [12, 12], [12, 12]])
        #expect(model.head.weight.shape == [9, 12])
    }
}

@Suite("MLP layers")
struct MLPLayerTests {
    /// GELU(x) = x/2 · (1 + erf(x/√2)), in Double.
    func gelu(_ x: Double) -> Double { x / 2 * (1 + erf(x / 2.0.squareRoot())) }

    @Test("GELU between layers, none after the last")
    func geluPlacement() {
        var generator = SeededGenerator(seed: 1)
        let mlp = MLP(sizes: [2, 2, 1], generator: &generator)
        mlp.layers[0].weight.data = [1, -2, 0.5, 3]  // rows are outputs: h0 = x0 − 2·x1, h1 = 0.5·x0 + 3·x1
        mlp.layers[0].bias!.data = [0.25, -1]
        mlp.layers[1].weight.data = [2, -1]
        mlp.layers[1].bias!.data = [-0.5]

        let x: [Double] = [0.5, -0.75]
        let h0 = x[0] - 2 * x[1] + 0.25  // 2.25
        let h1 = 0.5 * x[0] + 3 * x[1] - 1  // -3
        let expected = 2 * gelu(h0) - gelu(h1) - 0.5

        let output = mlp(Tensor(shape: [1, 2], data: x.map(Float.init)))
        #expect(output.shape == [1, 1])
        #expect(abs(Double(output.data[0]) - expected) < 1e-5)

        let activated = MLP(sizes: [2, 2, 1], activateLast: true, generator: &generator)
        for (target, source) in zip(activated.layers, mlp.layers) {
            target.weight.data = source.weight.data
            target.bias!.data = source.bias!.data
        }
        #expect(abs(Double(activated(Tensor(shape: [1, 2], data: x.map(Float.init))).data[0]) - gelu(expected)) < 1e-5)
    }
}

/// Wraps a model and records, for each forward pass, the training mode and whether a graph was recorded.
final class ModeRecordingModel: LanguageModel {
    let inner: MLPLanguageModel
    var isTraining = true
    var passes: [(isTraining: Bool, recordsGraph: Bool)] = []

    init(inner: MLPLanguageModel) { self.inner = inner }

    var blockSize: Int { inner.blockSize }

    func setTraining(_ training: Bool) { isTraining = training }

    func logits(_ ids: [Int], shape: [Int]) -> Tensor {
        passes.append((isTraining, Tensor.isGradientRecordingEnabled))
        return inner.logits(ids, shape: shape)
    }
}

@Suite("Training loop")
struct TrainingLoopTests {
    func sampleData() throws -> TokenizedCorpus {
        try TokenizedCorpus(text: sampleText, valFraction: 0.1)
    }

    @Test("short run lowers loss below ln(V)")
    func shortRunLearns() throws {
        let data = try sampleData()
        var generator = SeededGenerator(seed: 3)
        let model = MLPLanguageModel(
            vocabSize: data.vocabSize, blockSize: 8, embedDim: 16, hiddenSize: 32, depth: 2, generator: &generator)
        let settings = ShortTraining(steps: 150, batchSize: 16, learningRate: 1e-2, evalInterval: 50, evalBatches: 4)
        let curve = try train(model, on: data.dataset, settings: settings, generator: &generator)

        let uniform = Float(log(Double(data.vocabSize)))
        #expect(curve.steps == [0, 50, 100, 150])
        // Weights of scale 0.02 make every logit nearly 0 at the start: the loss of uniform guessing.
        #expect(abs(curve.train[0] - uniform) < 0.01)
        // 150 steps are enough to learn the letter frequencies and more: at least 0.8 below ln(V).
        #expect(curve.finalTrain < uniform - 0.8)
        #expect(curve.finalValidation < uniform - 0.8)
    }

    @Test("same seed gives the same curve")
    func repeatable() throws {
        let data = try sampleData()
        func run() throws -> LossCurve {
            var generator = SeededGenerator(seed: 11)
            let model = MLPLanguageModel(
                vocabSize: data.vocabSize, blockSize: 8, embedDim: 8, hiddenSize: 16, depth: 2, generator: &generator)
            return try train(model, on: data.dataset, settings: ShortTraining(steps: 20, evalInterval: 10, evalBatches: 2), generator: &generator)
        }
        let first = try run()
        let second = try run()
        #expect(bits(first.train) == bits(second.train))
        #expect(bits(first.validation) == bits(second.validation))
    }

    @Test("eval interval leaves training unchanged")
    func evaluationDoesNotDisturbTraining() throws {
        let data = try sampleData()
        func run(evalInterval: Int) throws -> (weights: [Float], curve: LossCurve) {
            var generator = SeededGenerator(seed: 5)
            let model = MLPLanguageModel(
                vocabSize: data.vocabSize, blockSize: 8, embedDim: 8, hiddenSize: 16, depth: 2, generator: &generator)
            let curve = try train(model, on: data.dataset, settings: ShortTraining(steps: 30, evalInterval: evalInterval, evalBatches: 2), generator: &generator)
            return (model.parameters.flatMap(\.data), curve)
        }
        let often = try run(evalInterval: 3)
        let rarely = try run(evalInterval: 30)
        #expect(bits(often.weights) == bits(rarely.weights))
        // Every evaluation measures the same batches, so the losses after step 30 agree too.
        #expect(often.curve.steps.last == 30)
        #expect(rarely.curve.steps == [0, 30])
        #expect(often.curve.finalTrain.bitPattern == rarely.curve.finalTrain.bitPattern)
        #expect(often.curve.finalValidation.bitPattern == rarely.curve.finalValidation.bitPattern)
    }

    @Test("evaluations run in evaluation mode")
    func trainingModeSwitches() throws {
        let data = try sampleData()
        var generator = SeededGenerator(seed: 5)
        let model = ModeRecordingModel(inner: makeModel(vocabSize: data.vocabSize, blockSize: 8))
        _ = try train(model, on: data.dataset, settings: ShortTraining(steps: 4, evalInterval: 2, evalBatches: 1), generator: &generator)

        let trainingPasses = model.passes.filter(\.recordsGraph)
        let evaluationPasses = model.passes.filter { !$0.recordsGraph }
        #expect(trainingPasses.count == 4)
        #expect(evaluationPasses.count == 6)  // train and validation, after steps 0, 2 and 4
        #expect(trainingPasses.allSatisfy { $0.isTraining })
        #expect(evaluationPasses.allSatisfy { !$0.isTraining })
        #expect(!model.isTraining, "train leaves the model in evaluation mode")
    }

    @Test("huge learning rate stops with a divergence error")
    func divergenceStops() throws {
        let data = try sampleData()
        var generator = SeededGenerator(seed: 5)
        let model = makeModel(vocabSize: data.vocabSize, blockSize: 8)
        let settings = ShortTraining(steps: 200, batchSize: 8, learningRate: 1e9, evalInterval: 1000, evalBatches: 1)
        var lastFiniteStep = 0
        let error = try #require(throws: DivergenceError.self) {
            try train(model, on: data.dataset, settings: settings, generator: &generator) { step, _ in lastFiniteStep = step }
        }
        // AdamW moves every weight by about the learning rate in its first step, so the loss
        // overflows within a few steps, and the step named is the first one whose loss did.
        #expect(error.step >= 2)
        #expect(error.step <= 10)
        #expect(error.step == lastFiniteStep + 1)
        #expect(!error.loss.isFinite)
        #expect(error.learningRate == 1e9)
        #expect(error.description.hasPrefix("training diverged at step \(error.step): the loss of its batch is "))
        #expect(error.description.contains("--lr 1e+09"))
        #expect(error.description.contains("Pass a smaller --lr"))
        // The step that failed applied no update, so the weights are still finite numbers.
        #expect(model.parameters.allSatisfy { $0.data.allSatisfy(\.isFinite) })
    }

    @Test("ordinary learning rate raises no divergence")
    func noDivergenceAtDefault() throws {
        let data = try sampleData()
        var generator = SeededGenerator(seed: 5)
        let model = makeModel(vocabSize: data.vocabSize, blockSize: 8)
        let settings = ShortTraining(steps: 200, batchSize: 8, learningRate: 1e-2, evalInterval: 1000, evalBatches: 1)
        let curve = try train(model, on: data.dataset, settings: settings, generator: &generator)
        #expect(curve.finalTrain.isFinite)
    }

    @Test("zero steps evaluates once")
    func zeroSteps() throws {
        let data = try sampleData()
        var generator = SeededGenerator(seed: 5)
        let model = makeModel(vocabSize: data.vocabSize, blockSize: 8)
        let curve = try train(model, on: data.dataset, settings: ShortTraining(steps: 0, evalBatches: 1), generator: &generator)
        #expect(curve.steps == [0])
        #expect(curve.train.count == 1)
        #expect(curve.validation.count == 1)
    }
}

@Suite("Context probe")
struct ContextProbeTests {
    @Test("first token cannot move the last prediction")
    func probeOnMLP() {
        let model = makeModel()
        let context = [3, 1, 4, 1, 5, 2]
        let first = ContextProbe(model: model, context: context, position: 0, replacement: 8)
        #expect(first.changed == [8, 1, 4, 1, 5, 2])
        #expect(first.isUnchanged)
        #expect(first.maxAbsoluteDifference == 0)

        let last = ContextProbe(model: model, context: context, position: 5, replacement: 8)
        #expect(!last.isUnchanged)
        #expect(last.maxAbsoluteDifference > 0)
    }

    @Test("top predictions by hand")
    func topPredictionsByHand() {
        // exp of the logits is 1, 3, 1, 2 (total 7), so the probabilities are 1/7, 3/7, 1/7, 2/7.
        let logits: [Float] = [0, Float(log(3.0)), 0, Float(log(2.0))]
        let top = topPredictions(logits: logits, count: 3)
        #expect(top.map(\.id) == [1, 3, 0])  // the tie between ids 0 and 2 goes to the smaller id
        let expected: [Float] = [3.0 / 7, 2.0 / 7, 1.0 / 7]
        for (prediction, probability) in zip(top, expected) {
            #expect(abs(prediction.probability - probability) < 1e-6)
        }
    }

    @Test("report states bit-identical and different")
    func reportVerdicts() throws {
        let data = try TokenizedCorpus(text: sampleText, valFraction: 0.1)
        let model = makeModel(vocabSize: data.vocabSize, blockSize: 8)
        let report = contextProbeReport(model: model, tokenizer: data.tokenizer, context: Array(data.dataset.validation.prefix(8)))
        #expect(report.contains("first token changed: bit-identical to the original"))
        #expect(report.contains("last token changed:  different, by up to"))
    }
}

@Suite("Training flags and reports")
struct TrainingSupportTests {
    @Test("flags fill the settings")
    func flagsFillSettings() throws {
        var parser = FlagParser(program: "Test", summary: "test")
        let flags = parser.trainingFlags(TrainingDefaults(steps: 10, batchSize: 2, blockSize: 4, embedDim: 8))
        try parser.parse(["--steps", "25", "--lr", "0.05", "--batch-size", "3", "--eval-interval", "5"])
        let settings = flags.settings
        #expect(settings.steps == 25)
        #expect(settings.batchSize == 3)
        #expect(settings.learningRate == 0.05)
        #expect(settings.evalInterval == 5)
        #expect(flags.blockSize.value == 4)
        #expect(flags.plot.value == nil)
    }

    @Test("non-positive learning rate is rejected")
    func learningRateRule() {
        var parser = FlagParser(program: "Test", summary: "test")
        _ = parser.trainingFlags()
        #expect(throws: FlagError.self) { try parser.parse(["--lr", "0"]) }
        #expect(throws: FlagError.self) { try parser.parse(["--block-size", "0"]) }
    }

    @Test("short split names --block-size")
    func shortSplitError() throws {
        let data = try TokenizedCorpus(text: "abcdefghijklmnopqrst", valFraction: 0.25)  // 15 + 5 tokens
        #expect(throws: Never.self) { try data.checkWindows(blockSize: 4) }
        do {
            try data.checkWindows(blockSize: 5)
            Issue.record("a validation split of 5 tokens cannot hold 6")
        } catch let error as StepError {
            #expect(error.message.contains("validation split has 5 tokens"))
            #expect(error.message.contains("--block-size 4 or less"))
        }
        // With 2 tokens the only block size that fits is 1, the smallest allowed.
        let tiny = try TokenizedCorpus(text: "abcdefghijklmnopqrst", valFraction: 0.1)  // 18 + 2 tokens
        do {
            try tiny.checkWindows(blockSize: 2)
            Issue.record("a validation split of 2 tokens cannot hold 3")
        } catch let error as StepError {
            #expect(error.message.contains("validation split has 2 tokens"))
            #expect(error.message.contains("Pass --block-size 1 (the only size that fits)"))
            #expect(!error.message.contains("or less"))
        }
    }

    @Test("overview uses singular for one")
    func overviewSingular() throws {
        let data = try TokenizedCorpus(text: sampleText, valFraction: 0.1)
        let one = trainingOverview(
            textName: "t", data: data, settings: ShortTraining(steps: 1, batchSize: 1), blockSize: 1, seed: 0)
        #expect(one.contains("Training: 1 step of 1 sequence of 1 token, learning rate"))
        let many = trainingOverview(
            textName: "t", data: data, settings: ShortTraining(steps: 2000, batchSize: 16), blockSize: 16, seed: 0)
        #expect(many.contains("Training: 2000 steps of 16 sequences of 16 tokens, learning rate"))
    }

    @Test("context text is checked")
    func contextChecks() throws {
        let data = try TokenizedCorpus(text: sampleText, valFraction: 0.1)
        #expect(try data.contextIDs("the mill", blockSize: 8) == data.tokenizer.encode("the mill"))
        #expect(try data.contextIDs(nil, blockSize: 8) == Array(data.dataset.validation.prefix(8)))
        #expect(throws: StepError.self) { try data.contextIDs("the mill!", blockSize: 16) }  // "!" is not in the text
        #expect(throws: StepError.self) { try data.contextIDs("the miller", blockSize: 8) }  // 10 tokens
        #expect(throws: StepError.self) { try data.contextIDs("t", blockSize: 8, minimumCount: 2) }
    }

    @Test("bigram entropy by hand")
    func bigramEntropy() throws {
        // "abab…" with 100 characters: every pair is fully predictable, so H(next | current) = 0.
        let alternating = try TokenizedCorpus(text: String(repeating: "ab", count: 50), valFraction: 0.1)
        #expect(alternating.bigramEntropy == 0)
        // "aabb" repeated: after "a" comes "a" or "b" equally often, after "b" too, so H = ln 2.
        let pairs = try TokenizedCorpus(text: String(repeating: "aabb", count: 100), valFraction: 0)
        #expect(abs(pairs.bigramEntropy - log(2.0)) < 0.01)
    }

    @Test("loss table and sparklines")
    func lossReport() {
        var curve = LossCurve()
        curve.steps = [0, 10, 20]
        curve.train = [3.5, 2.25, 2]
        curve.validation = [3.5, 2.5, 2.375]
        let table = curve.table(digits: 3).render().split(separator: "\n").map(String.init)
        #expect(table[0] == "step │ train loss │ validation loss")
        #expect(table[2] == "   0 │      3.500 │           3.500")
        #expect(table[4] == "  20 │      2.000 │           2.375")
        let lines = curve.sparklines().split(separator: "\n").map(String.init)
        #expect(lines == ["train       █▂▁  min 2  max 3.5", "validation  █▂▁  min 2.375  max 3.5"])
    }

    @Test("plot has one train and one validation series per run")
    func plotSeries() {
        var curve = LossCurve()
        curve.steps = [0, 10]
        curve.train = [3, 2]
        curve.validation = [3, 2.5]
        #expect(lossPlot([("", curve)], title: "t").series.map(\.name) == ["train", "validation"])
        let names = lossPlot([("depth 2", curve), ("depth 4", curve)], title: "t").series.map(\.name)
        #expect(names == ["depth 2 train", "depth 2 validation", "depth 4 train", "depth 4 validation"])
    }
}
