/// The wiring of a block: whether each sublayer sits in a residual branch, and where LayerNorm goes.
/// The three wirings the program compares have names.
public struct BlockWiring: Equatable {
    /// Whether each sublayer's output is added to its input.
    public var usesResidual: Bool
    /// The position of LayerNorm: before each sublayer or after each residual sum.
    public var normPlacement: NormPlacement

    /// Creates a wiring.
    public init(usesResidual: Bool, normPlacement: NormPlacement) {
        self.usesResidual = usesResidual
        self.normPlacement = normPlacement
    }

    /// x + f(LayerNorm(x)): GPT-2's block, the default.
    public static let preNorm = BlockWiring(usesResidual: true, normPlacement: .preNorm)
    /// f(LayerNorm(x)): the pre-norm block with its residual connections removed.
    public static let noResidual = BlockWiring(usesResidual: false, normPlacement: .preNorm)
    /// LayerNorm(x + f(x)): the block of the original Transformer.
    public static let postNorm = BlockWiring(usesResidual: true, normPlacement: .postNorm)

    /// A short name for tables, such as "pre-norm" or "no residual".
    public var label: String {
        switch (usesResidual, normPlacement) {
        case (true, .preNorm): return "pre-norm"
        case (false, .preNorm): return "no residual"
        case (true, .postNorm): return "post-norm"
        case (false, .postNorm): return "post-norm, no residual"
        }
    }

    /// The formula of one sublayer step in this wiring, such as "x + f(LayerNorm(x))".
    public var formula: String {
        switch (usesResidual, normPlacement) {
        case (true, .preNorm): return "x + f(LayerNorm(x))"
        case (false, .preNorm): return "f(LayerNorm(x))"
        case (true, .postNorm): return "LayerNorm(x + f(x))"
        case (false, .postNorm): return "LayerNorm(f(x))"
        }
    }
}
