import Tensor

/// A stack of linear layers with GELU between them: sizes [a, b, c] make a→b, GELU, b→c.
/// With `activateLast` a GELU also follows the last layer.
public final class MLP: Module {
    /// The linear layers in order.
    public let layers: [Linear]
    /// Whether a GELU follows the last layer too.
    public let activateLast: Bool

    /// Creates one linear layer for each consecutive pair of `sizes`.
    public init(sizes: [Int], activateLast: Bool = false, bias: Bool = true, generator: inout SeededGenerator) {
        precondition(sizes.count >= 2, "MLP: needs at least an input and an output size, got \(sizes)")
        var layers: [Linear] = []
        for (input, output) in zip(sizes, sizes.dropFirst()) {
            layers.append(Linear(inputSize: input, outputSize: output, bias: bias, generator: &generator))
        }
        self.layers = layers
        self.activateLast = activateLast
    }

    /// Applies the layers to the last axis: `[..., sizes.first]` to `[..., sizes.last]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var hidden = x
        for (index, layer) in layers.enumerated() {
            hidden = layer(hidden)
            if activateLast || index < layers.count - 1 {
                hidden = hidden.gelu()
            }
        }
        return hidden
    }
}
