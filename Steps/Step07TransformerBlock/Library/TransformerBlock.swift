import MLPStep
import MultiHeadAttentionStep
import Tensor

/// The position of LayerNorm in a block: before or after each sublayer.
public enum NormPlacement: String, CaseIterable {
    /// Before each sublayer, inside the residual branch: x + f(LayerNorm(x)). GPT-2's choice.
    case preNorm = "pre"
    /// After each residual sum: LayerNorm(x + f(x)). The original Transformer's choice.
    case postNorm = "post"
}

/// A transformer block: communication (multi-head attention) then computation (an MLP), each wrapped
/// in a residual connection and a LayerNorm.
///
/// Pre-norm: x ← x + attention(LayerNorm₁(x)), then x ← x + MLP(LayerNorm₂(x)), `[B, T, C]` to `[B, T, C]`.
/// The MLP widens to 4·C, applies GELU and projects back to C.
public final class TransformerBlock: Module {
    /// The LayerNorm in front of (or, post-norm, after) attention.
    public let norm1: LayerNorm
    /// Multi-head causal self-attention.
    public let attention: MultiHeadAttention
    /// The LayerNorm in front of (or, post-norm, after) the MLP.
    public let norm2: LayerNorm
    /// C → 4·C → C with GELU in between.
    public let mlp: MLP
    /// Whether each sublayer's output is added to its input (x + f(x)) or replaces it (f(x)).
    public var usesResidual: Bool
    /// The position of LayerNorm in the block.
    public var normPlacement: NormPlacement
    /// The probability of dropping each value of a sublayer's output while training (0 turns it off).
    public var dropout: Float
    /// Whether dropout is active.
    public var isTraining = true
    /// The generator dropout draws from.
    public var dropoutGenerator: SeededGenerator

    /// Creates a block.
    /// - Throws: `AttentionConfigurationError` unless `numHeads` ≥ 1 divides `embedDim`.
    public init(
        embedDim: Int, numHeads: Int, bias: Bool = false, dropout: Float = 0,
        usesResidual: Bool = true, normPlacement: NormPlacement = .preNorm, generator: inout SeededGenerator
    ) throws {
        norm1 = LayerNorm(dimension: embedDim, bias: bias)
        attention = try MultiHeadAttention(embedDim: embedDim, numHeads: numHeads, bias: bias, generator: &generator)
        norm2 = LayerNorm(dimension: embedDim, bias: bias)
        mlp = MLP(sizes: [embedDim, 4 * embedDim, embedDim], bias: bias, generator: &generator)
        self.usesResidual = usesResidual
        self.normPlacement = normPlacement
        self.dropout = dropout
        dropoutGenerator = SeededGenerator(seed: generator.next())
    }

    /// Applies the block, `[B, T, C]` to `[B, T, C]`, and returns the attention matrices `[B, numHeads, T, T]`.
    public func forward(_ x: Tensor) -> (output: Tensor, attention: Tensor) {
        var attentionMatrix: Tensor?
        let afterAttention = sublayer(x, norm: norm1) { input in
            let (output, attention) = attention(input)
            attentionMatrix = attention
            return output
        }
        let output = sublayer(afterAttention, norm: norm2) { mlp($0) }
        return (output, attentionMatrix!)
    }

    /// Applies the block, `[B, T, C]` to `[B, T, C]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        forward(x).output
    }

    /// Wraps one sublayer in its LayerNorm and (optionally) residual connection.
    private func sublayer(_ x: Tensor, norm: LayerNorm, _ function: (Tensor) -> Tensor) -> Tensor {
        switch normPlacement {
        case .preNorm:
            let update = regularized(function(norm(x)))
            return usesResidual ? x + update : update
        case .postNorm:
            let update = regularized(function(x))
            return norm(usesResidual ? x + update : update)
        }
    }

    private func regularized(_ x: Tensor) -> Tensor {
        guard isTraining, dropout > 0 else { return x }
        return x.dropout(probability: dropout, generator: &dropoutGenerator)
    }
}
