import Foundation
import Testing
@testable import Tensor

// How the graph is recorded, released and walked; parameter discovery; the seeded generator.

@Suite("Graph recording")
struct GraphRecordingTests {
    @Test("no-grad mode records no graph")
    func noGradRecordsNothing() {
        let x = Tensor(shape: [2], data: [1, 2], requiresGrad: true)
        let y = Tensor.withoutGradients { (x * 3).exp() }
        #expect(!y.requiresGrad)
        #expect(y.parents.isEmpty)
        #expect(y.backwardFunction == nil)
        // The values are the same as with recording on.
        #expect(y.data == (x * 3).exp().data)
    }

    @Test("no-grad mode keeps no intermediate alive")
    func noGradReleasesIntermediates() {
        let x = Tensor(shape: [2], data: [1, 2], requiresGrad: true)

        // With recording on, the output's graph keeps the intermediate alive; this shows the
        // weak-reference check below can fail.
        weak var recordedIntermediate: Tensor?
        let recorded: Tensor = {
            let intermediate = x * 2
            recordedIntermediate = intermediate
            return intermediate.exp()
        }()
        withExtendedLifetime(recorded) {
            #expect(recordedIntermediate != nil)
        }

        weak var unrecordedIntermediate: Tensor?
        let unrecorded = Tensor.withoutGradients {
            let intermediate = x * 2
            unrecordedIntermediate = intermediate
            return intermediate.exp()
        }
        withExtendedLifetime(unrecorded) {
            #expect(unrecordedIntermediate == nil)
        }
    }

    @Test("backward releases the graph")
    func backwardReleasesGraph() {
        let x = Tensor(shape: [2], data: [1, 2], requiresGrad: true)
        weak var intermediate: Tensor?
        let loss: Tensor = {
            let product = x * 2
            intermediate = product
            return product.sum()
        }()
        #expect(intermediate != nil)
        loss.backward()
        #expect(loss.parents.isEmpty)
        #expect(intermediate == nil)
        #expect(x.grad == [2, 2])
    }

    @Test("no-grad mode nests and ends after a throw")
    func noGradNesting() {
        struct Failure: Error {}
        #expect(Tensor.isGradientRecordingEnabled)
        Tensor.withoutGradients {
            Tensor.withoutGradients {
                #expect(!Tensor.isGradientRecordingEnabled)
            }
            #expect(!Tensor.isGradientRecordingEnabled)
        }
        #expect(Tensor.isGradientRecordingEnabled)
        #expect(throws: Failure.self) {
            try Tensor.withoutGradients { throw Failure() }
        }
        #expect(Tensor.isGradientRecordingEnabled)
    }

    @Test("no-grad mode stays on its own thread")
    func noGradIsLocal() {
        // Swift Testing runs tests concurrently in one process, so one test's evaluation inside
        // withoutGradients must not switch off recording for a graph another test builds meanwhile.
        final class Observation: @unchecked Sendable {
            var requiresGrad: Bool?
        }
        let x = Tensor(shape: [1], data: [1], requiresGrad: true)
        let observation = Observation()
        let inside = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        let other = Thread {
            inside.wait()
            observation.requiresGrad = (x * 2).requiresGrad
            done.signal()
        }
        other.start()
        Tensor.withoutGradients {
            inside.signal()
            done.wait()
        }
        #expect(observation.requiresGrad == true)
    }

    @Test("constants record no graph")
    func constantsRecordNothing() {
        let a = Tensor(shape: [2], data: [1, 2])
        let b = a * a + 1
        #expect(!b.requiresGrad)
        #expect(b.parents.isEmpty)
    }

    @Test("gradient only where required")
    func gradientOnlyWhereRequired() {
        let parameter = Tensor(shape: [2], data: [1, 2], requiresGrad: true)
        let constant = Tensor(shape: [2], data: [3, 4])
        (parameter * constant).sum().backward()
        #expect(parameter.grad == [3, 4])
        #expect(constant.grad == nil)
    }
}

@Suite("Gradient accumulation")
struct GradientAccumulationTests {
    @Test("two backward passes add up until cleared")
    func accumulates() {
        // d/dx Σ x² = 2x = [2, −4]; two passes give [4, −8]; after zeroGrad one pass gives [2, −4].
        let x = Tensor(shape: [2], data: [1, -2], requiresGrad: true)
        (x * x).sum().backward()
        #expect(x.grad == [2, -4])
        (x * x).sum().backward()
        #expect(x.grad == [4, -8])
        x.zeroGrad()
        #expect(x.grad == nil)
        (x * x).sum().backward()
        #expect(x.grad == [2, -4])
    }

    @Test("Module.zeroGrad clears every parameter")
    func moduleZeroGrad() {
        var generator = SeededGenerator(seed: 3)
        let layer = Linear(inputSize: 3, outputSize: 2, generator: &generator)
        let input = Tensor(shape: [1, 3], data: [1, 2, 3])
        layer(input).sum().backward()
        #expect(layer.weight.grad != nil)
        #expect(layer.bias?.grad != nil)
        layer.zeroGrad()
        #expect(layer.weight.grad == nil)
        #expect(layer.bias?.grad == nil)
    }

    @Test("backward on a 100,000-op chain")
    func deepChain() {
        // 50,000 pairs of ×2 and ×0.5 are exact in Float, so the value and the gradient stay exactly
        // 3 and 1. A recursive walk of this chain would overflow the stack.
        let x = Tensor(shape: [1], data: [3], requiresGrad: true)
        var y = x
        for _ in 0..<50_000 {
            y = (y * 2) * 0.5
        }
        #expect(y.item == 3)
        y.backward()
        #expect(x.grad == [1])
    }

    @Test("dropping a 100,000-op graph")
    func dropDeepGraph() async {
        // A graph built but never sent backward, for example a running total of losses, is
        // released when its last tensor goes. Released recursively, a chain this long overflows
        // the stack; the child process shows whether it does.
        await #expect(processExitsWith: .success) {
            let x = Tensor(shape: [1], data: [1], requiresGrad: true)
            var total = x
            for _ in 0..<100_000 {
                total = total + x
            }
            total = x
            exit(total.item == 1 ? 0 : 1)
        }
    }
}

// MARK: - Parameter discovery

private final class Block: Module {
    let weight = Tensor.ones([2, 2], requiresGrad: true)
    let bias: Tensor?
    let frozen = Tensor.zeros([5])
    let scale: Float = 2

    init(bias: Bool) {
        self.bias = bias ? Tensor.zeros([2], requiresGrad: true) : nil
    }
}

private final class Model: Module {
    let embedding = Tensor.ones([4, 2], requiresGrad: true)
    let blocks = [Block(bias: true), Block(bias: false)]
    let optionalBlock: Block? = Block(bias: true)
    let absentBlock: Block? = nil
    let extras = [Tensor.ones([3], requiresGrad: true), Tensor.ones([3])]
    let norm = LayerNorm(dimension: 2)
    let head: Tensor
    let shared: Block
    let sharedAgain: Block
    let name = "model"

    init() {
        head = embedding
        shared = Block(bias: false)
        sharedAgain = shared
    }
}

private class BaseModule: Module {
    let first = Tensor.ones([1], requiresGrad: true)
}

private final class DerivedModule: BaseModule {
    let second = Tensor.ones([1], requiresGrad: true)
}

@Suite("Module parameters")
struct ModuleParameterTests {
    @Test("names nested modules, arrays and optionals")
    func names() {
        let model = Model()
        #expect(model.namedParameters.map(\.name) == [
            "embedding",
            "blocks.0.weight",
            "blocks.0.bias",
            "blocks.1.weight",
            "optionalBlock.weight",
            "optionalBlock.bias",
            "extras.0",
            "norm.gain",
            "norm.bias",
            "shared.weight",
        ])
    }

    @Test("tied tensor listed once")
    func tiedTensor() {
        let model = Model()
        let tensors = model.namedParameters.map(\.tensor)
        #expect(tensors.filter { $0 === model.embedding }.count == 1)
        #expect(model.namedParameters.first?.tensor === model.head)
        #expect(Set(tensors.map(ObjectIdentifier.init)).count == tensors.count)
    }

    @Test("skips tensors that require no gradient")
    func skipsFrozen() {
        let model = Model()
        let tensors = model.parameters
        #expect(!tensors.contains { $0 === model.blocks[0].frozen })
        #expect(!tensors.contains { $0 === model.extras[1] })
        #expect(tensors.allSatisfy { $0.requiresGrad })
    }

    @Test("counts parameter values")
    func parameterCount() {
        // 8 (embedding) + 4 + 2 (block 0) + 4 (block 1) + 4 + 2 (optional block) + 3 (extras)
        // + 2 + 2 (norm) + 4 (shared block) = 35.
        #expect(Model().parameterCount == 35)
    }

    @Test("lists superclass properties first")
    func inheritance() {
        #expect(DerivedModule().namedParameters.map(\.name) == ["first", "second"])
    }

    @Test("Linear without bias has one parameter")
    func linearWithoutBias() {
        var generator = SeededGenerator(seed: 1)
        let layer = Linear(inputSize: 3, outputSize: 2, bias: false, generator: &generator)
        #expect(layer.namedParameters.map(\.name) == ["weight"])
        #expect(layer.weight.shape == [2, 3])
    }
}

// MARK: - Seeded generator

@Suite("SeededGenerator")
struct SeededGeneratorTests {
    @Test("seed 0 matches an independent xoshiro256** reference")
    func referenceDraws() {
        // Printed by Tools/xoshiro_reference.py, a separate Python implementation of SplitMix64
        // seeding and xoshiro256**.
        let expected: [UInt64] = [
            0x99EC_5F36_CB75_F2B4, 0xBF6E_1F78_4956_452A, 0x1A5F_849D_4933_E6E0, 0x6AA5_94F1_262D_2D2C,
            0xBBA5_AD4A_1F84_2E59, 0xFFEF_8375_D9EB_CACA, 0x6C16_0DEE_D2F5_4C98, 0x8920_AD64_8FC3_0A3F,
        ]
        var generator = SeededGenerator(seed: 0)
        #expect((0..<8).map { _ in generator.next() } == expected)
    }

    @Test("seed 0 floats match the reference")
    func referenceFloats() {
        // Uniform floats are the top 24 bits times 2⁻²⁴, so they match exactly.
        var uniform = SeededGenerator(seed: 0)
        #expect((0..<4).map { _ in uniform.nextUniform() } == [0.6012629866600037, 0.747774064540863, 0.10301995277404785, 0.41658902168273926])

        // Box–Muller in Double, rounded to Float; 1e-6 allows for a last-bit difference between the
        // math libraries of Swift and Python.
        var normal = SeededGenerator(seed: 0)
        expectClose((0..<4).map { _ in normal.nextNormal() },
                    [-0.018964990973472595, -1.355930209159851, -0.4037210941314697, 0.2333509773015976],
                    tolerance: 1e-6)
    }

    @Test("sequence fixed by the seed")
    func determinism() {
        var a = SeededGenerator(seed: 12345)
        var b = SeededGenerator(seed: 12345)
        var c = SeededGenerator(seed: 12346)
        let first = (0..<100).map { _ in a.next() }
        #expect(first == (0..<100).map { _ in b.next() })
        let other = (0..<100).map { _ in c.next() }
        #expect(zip(first, other).filter { $0 == $1 }.isEmpty)
    }

    @Test("normal draws have mean 0 and standard deviation 1")
    func normalMoments() {
        // Over n = 100,000 draws the sample mean has standard error 1/√n = 0.0032 and the sample
        // standard deviation about 1/√(2n) = 0.0022; both are allowed 5 standard errors.
        var generator = SeededGenerator(seed: 2024)
        let n = 100_000
        var sum: Double = 0
        var sumOfSquares: Double = 0
        for _ in 0..<n {
            let value = Double(generator.nextNormal())
            sum += value
            sumOfSquares += value * value
        }
        let mean = sum / Double(n)
        let standardDeviation = (sumOfSquares / Double(n) - mean * mean).squareRoot()
        #expect(abs(mean) <= 5 * 0.0032)
        #expect(abs(standardDeviation - 1) <= 5 * 0.0022)
    }

    @Test("uniform draws lie in [0, 1)")
    func uniformRange() {
        var generator = SeededGenerator(seed: 5)
        for _ in 0..<10_000 {
            let value = generator.nextUniform()
            #expect(value >= 0)
            #expect(value < 1)
        }
    }

    @Test("nextInt stays below its bound", arguments: [1, 2, 3, 7, 1000, Int.max])
    func nextIntRange(bound: Int) {
        var generator = SeededGenerator(seed: UInt64(bound % 1000))
        for _ in 0..<2000 {
            let value = generator.nextInt(below: bound)
            #expect(value >= 0)
            #expect(value < bound)
        }
    }

    @Test("nextInt covers its range evenly")
    func nextIntUniformity() {
        // 30,000 draws below 3: each count is binomial with mean 10,000 and standard deviation
        // √(30000 · 1/3 · 2/3) = 81.6; 5 standard deviations is ±408.
        var generator = SeededGenerator(seed: 9)
        var counts = [0, 0, 0]
        for _ in 0..<30_000 { counts[generator.nextInt(below: 3)] += 1 }
        for count in counts {
            #expect(abs(count - 10_000) <= 408, "counts \(counts)")
        }
    }

    @Test("nextIndex follows the weights")
    func nextIndexWeights() {
        // Weights [0, 1, 0, 3]: index 1 with probability 1/4, index 3 with 3/4, others never.
        // Over 40,000 draws index 3 is binomial, mean 30,000, standard deviation √7500 = 86.6; 5σ = ±433.
        var generator = SeededGenerator(seed: 10)
        var counts = [0, 0, 0, 0]
        for _ in 0..<40_000 { counts[generator.nextIndex(weights: [0, 1, 0, 3])] += 1 }
        #expect(counts[0] == 0)
        #expect(counts[2] == 0)
        #expect(abs(counts[3] - 30_000) <= 433, "counts \(counts)")
    }
}
