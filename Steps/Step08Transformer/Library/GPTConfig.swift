/// The sizes of a GPT model.
public struct GPTConfig: Codable, Equatable {
    /// The number of token ids, including `[UNK]`.
    public var vocabSize: Int
    /// The maximum context length, T.
    public var blockSize: Int
    /// The width of every token vector, C.
    public var embedDim: Int
    /// The heads in each block.
    public var numHeads: Int
    /// The number of transformer blocks.
    public var numLayers: Int
    /// The dropout probability while training (0 turns it off).
    public var dropout: Float
    /// Whether linear layers and LayerNorms have biases (GPT-2 has them; nanoGPT's CPU preset does not).
    public var bias: Bool

    /// Creates a configuration.
    public init(vocabSize: Int, blockSize: Int, embedDim: Int, numHeads: Int, numLayers: Int, dropout: Float = 0, bias: Bool = false) {
        self.vocabSize = vocabSize
        self.blockSize = blockSize
        self.embedDim = embedDim
        self.numHeads = numHeads
        self.numLayers = numLayers
        self.dropout = dropout
        self.bias = bias
    }

    /// The number of trainable values, from the closed form (the head shares the token table):
    /// V·C + T·C + L·(12·C² + 2·C) + C without biases, and L·11·C + C more with them.
    ///
    /// Per block: 4·C² for query, key, value and projection, 8·C² for the MLP (C→4C→C), and 2·C
    /// for the two LayerNorm gains; the final LayerNorm adds C.
    public var parameterCount: Int {
        let c = embedDim
        var count = vocabSize * c + blockSize * c + numLayers * (12 * c * c + 2 * c) + c
        if bias {
            count += numLayers * biasCountPerLayer + c
        }
        return count
    }

    /// Bias values in one block: query, key, value and projection (4·C), the MLP's hidden and output
    /// layers (4·C + C), and the two LayerNorms (2·C): 11·C.
    public var biasCountPerLayer: Int { 11 * embedDim }

    /// Floating-point operations of one training step on `batchSize` sequences of `blockSize` tokens,
    /// estimated as 6 per weight per token plus attention's 12·L·T·C per token (the PaLM paper's estimate).
    public func trainingFLOPs(batchSize: Int) -> Double {
        let tokens = Double(batchSize * blockSize)
        let weights = Double(parameterCount - blockSize * embedDim)
        return tokens * (6 * weights + 12 * Double(numLayers * blockSize * embedDim))
    }
}
