import DatasetStep
import MLPStep
import Tensor

/// A measurement of one layer of a `BlockLanguageModel` on one batch.
public struct LayerMeasurement: Equatable {
    /// The layer's name: "embedding", "block 1", …, "norm + head".
    public let layer: String
    /// The L2 norm of the loss gradient with respect to all of the layer's parameters together.
    public let gradientNorm: Double
    /// The root mean square of the layer's output values (the residual stream after a block), or
    /// nil for the head, whose output is the logits.
    public let outputRMS: Double?

    /// Creates a measurement.
    public init(layer: String, gradientNorm: Double, outputRMS: Double?) {
        self.layer = layer
        self.gradientNorm = gradientNorm
        self.outputRMS = outputRMS
    }
}

extension BlockLanguageModel {
    /// Runs one forward and backward pass on `batch` and returns, for the embedding, each block and
    /// the final LayerNorm with the head, the norm of its parameters' gradient and the size of its output.
    ///
    /// The gradients are cleared again before returning, so a training step after this starts from zero.
    public func layerMeasurements(on batch: Batch) -> [LayerMeasurement] {
        zeroGrad()
        defer { zeroGrad() }

        let (logits, blockOutputs) = forward(batch.inputs, shape: batch.shape)
        Tensor.crossEntropy(logits: logits, targets: batch.targets).backward()
        let embedded = Tensor.withoutGradients { embedding(batch.inputs, shape: batch.shape) }

        var measurements = [LayerMeasurement(
            layer: "embedding", gradientNorm: gradientNorm(embedding.parameters), outputRMS: rootMeanSquare(embedded))]
        for (index, block) in blocks.enumerated() {
            measurements.append(LayerMeasurement(
                layer: "block \(index + 1)", gradientNorm: gradientNorm(block.parameters),
                outputRMS: rootMeanSquare(blockOutputs[index])))
        }
        measurements.append(LayerMeasurement(
            layer: "norm + head", gradientNorm: gradientNorm(finalNorm.parameters + head.parameters), outputRMS: nil))
        return measurements
    }
}

/// Returns √(Σ g²) over the gradients of `parameters`, added in `Double`; a parameter without a
/// gradient counts as 0.
public func gradientNorm(_ parameters: [Tensor]) -> Double {
    var total = 0.0
    for parameter in parameters {
        for g in parameter.grad ?? [] { total += Double(g) * Double(g) }
    }
    return total.squareRoot()
}

/// Returns √(mean of x²) over all values of `tensor`, added in `Double`.
public func rootMeanSquare(_ tensor: Tensor) -> Double {
    guard tensor.count > 0 else { return 0 }
    let total = tensor.data.reduce(0.0) { $0 + Double($1) * Double($1) }
    return (total / Double(tensor.count)).squareRoot()
}
