// The standard layers every step builds from. Weights start as in GPT-2: normal with standard
// deviation 0.02, biases at 0, LayerNorm gains at 1.

/// A fully connected layer y = x·Wᵀ + b, with the weight stored `[out, in]` as in PyTorch.
public final class Linear: Module {
    /// The weight matrix, `[outputSize, inputSize]`.
    public let weight: Tensor
    /// The bias, `[outputSize]`, or `nil` for a layer without one.
    public let bias: Tensor?

    /// Creates a layer with normal(0, `std`) weights and, when `bias` is true, a zero bias.
    public init(inputSize: Int, outputSize: Int, bias: Bool = true, std: Float = 0.02, generator: inout SeededGenerator) {
        weight = Tensor.randomNormal([outputSize, inputSize], std: std, generator: &generator, requiresGrad: true)
        self.bias = bias ? Tensor.zeros([outputSize], requiresGrad: true) : nil
    }

    /// Applies the layer to the last axis: `[..., in]` to `[..., out]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let product = Tensor.matmul(x, weight, transposeB: true)
        guard let bias else { return product }
        return product + bias
    }
}

/// A lookup table that maps each token id to a learned vector.
public final class Embedding: Module {
    /// The table, `[count, dimension]`; row i is the vector of id i.
    public let weight: Tensor

    /// Creates a table of normal(0, `std`) vectors.
    public init(count: Int, dimension: Int, std: Float = 0.02, generator: inout SeededGenerator) {
        weight = Tensor.randomNormal([count, dimension], std: std, generator: &generator, requiresGrad: true)
    }

    /// Looks up the vectors of `ids` laid out as `shape`, giving `shape + [dimension]`.
    public func callAsFunction(_ ids: [Int], shape: [Int]) -> Tensor {
        Tensor.embedding(weight, ids: ids, idsShape: shape)
    }
}

/// Layer normalisation over the last axis, with a learned gain and an optional learned bias.
public final class LayerNorm: Module {
    /// The gain, `[dimension]`, starting at 1.
    public let gain: Tensor
    /// The bias, `[dimension]`, starting at 0, or `nil`.
    public let bias: Tensor?
    /// The constant added to the variance before the square root.
    public let epsilon: Float

    /// Creates a LayerNorm over vectors of `dimension` values.
    public init(dimension: Int, bias: Bool = true, epsilon: Float = 1e-5) {
        gain = Tensor.ones([dimension], requiresGrad: true)
        self.bias = bias ? Tensor.zeros([dimension], requiresGrad: true) : nil
        self.epsilon = epsilon
    }

    /// Normalises each vector along the last axis to mean 0 and variance 1, then scales and shifts it.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.layerNorm(x, gain: gain, bias: bias, epsilon: epsilon)
    }
}
