import StepKit
import Tensor

/// The trainable values of a GPT counted by component, each next to its closed form.
///
/// The counts come from the model's `namedParameters`, so a tensor reached twice (the token table,
/// which is also the head) is counted once, as in training. The closed forms come from `GPTConfig`.
/// When the two totals agree, the formula V·C + T·C + L·(12·C² + 2·C) + C describes the model
/// that was built, not just the model that was meant.
public struct ParameterBreakdown {
    /// One part of the model: its closed form and what the model really holds.
    public struct Component {
        /// The part, as in "attention: query, key, value, projection".
        public let name: String
        /// The closed form in the letters V, T, C and L, as in "L·4·C²".
        public let formula: String
        /// The closed form with the sizes filled in, as in "2·4·32²".
        public let filledIn: String
        /// The value of the closed form.
        public let expected: Int
        /// The number of values the model's parameters of this part hold.
        public let counted: Int
    }

    /// The sizes the model was built with.
    public let config: GPTConfig
    /// The parts, in the order data flows through the model.
    public let components: [Component]
    /// Every value of `model.namedParameters`, the number training updates.
    public let countedTotal: Int

    /// Counts the parameters of `model` by component.
    public init(model: GPT) {
        config = model.config
        let (c, l) = (config.embedDim, config.numLayers)
        let bias = config.bias
        let parameters = model.namedParameters.map(\.tensor)

        /// Returns the values of the tensors in `owned` that `namedParameters` lists.
        func counted(_ owned: [Tensor?]) -> Int {
            let ids = Set(owned.compactMap { $0.map(ObjectIdentifier.init) })
            return parameters.filter { ids.contains(ObjectIdentifier($0)) }.reduce(0) { $0 + $1.count }
        }
        let blocks = model.blocks
        let attentionLayers = blocks.flatMap { block in
            [block.attention.query, block.attention.key, block.attention.value, block.attention.projection]
        }
        let mlpLayers = blocks.flatMap(\.mlp.layers)
        let norms = blocks.flatMap { [$0.norm1, $0.norm2] }

        var components = [
            Component(
                name: "token embedding, also the head", formula: "V·C",
                filledIn: "\(config.vocabSize)·\(c)", expected: config.vocabSize * c,
                counted: counted([model.embedding.tokenEmbedding.weight])),
            Component(
                name: "position embedding", formula: "T·C", filledIn: "\(config.blockSize)·\(c)",
                expected: config.blockSize * c, counted: counted([model.embedding.positionEmbedding?.weight])),
        ]
        // Per block, query, key, value and projection are C×C each, and the MLP is C×4C and 4C×C.
        // Biases add C per attention layer, 4C + C to the MLP and C per LayerNorm.
        components.append(Component(
            name: "attention: query, key, value, projection",
            formula: bias ? "L·(4·C² + 4·C)" : "L·4·C²",
            filledIn: bias ? "\(l)·(4·\(c)² + 4·\(c))" : "\(l)·4·\(c)²",
            expected: l * (4 * c * c + (bias ? 4 * c : 0)),
            counted: counted(attentionLayers.flatMap { [$0.weight, $0.bias] })))
        components.append(Component(
            name: "MLP: C → 4·C → C",
            formula: bias ? "L·(8·C² + 5·C)" : "L·8·C²",
            filledIn: bias ? "\(l)·(8·\(c)² + 5·\(c))" : "\(l)·8·\(c)²",
            expected: l * (8 * c * c + (bias ? 5 * c : 0)),
            counted: counted(mlpLayers.flatMap { [$0.weight, $0.bias] })))
        components.append(Component(
            name: "LayerNorms in the blocks",
            formula: bias ? "L·4·C" : "L·2·C", filledIn: bias ? "\(l)·4·\(c)" : "\(l)·2·\(c)",
            expected: l * (bias ? 4 : 2) * c,
            counted: counted(norms.flatMap { [$0.gain, $0.bias] })))
        components.append(Component(
            name: "final LayerNorm", formula: bias ? "2·C" : "C", filledIn: bias ? "2·\(c)" : "\(c)",
            expected: (bias ? 2 : 1) * c,
            counted: counted([model.finalNorm.gain, model.finalNorm.bias])))
        self.components = components
        countedTotal = parameters.reduce(0) { $0 + $1.count }
    }

    /// The closed form of the whole model in the letters V, T, C and L.
    public var formula: String {
        "V·C + T·C + L·(12·C² + 2·C) + C" + (config.bias ? " + L·11·C + C" : "")
    }

    /// The closed form with the sizes filled in, as in "65·32 + 8·32 + 2·(12·32² + 2·32) + 32".
    public var filledIn: String {
        let (v, t, c, l) = (config.vocabSize, config.blockSize, config.embedDim, config.numLayers)
        return "\(v)·\(c) + \(t)·\(c) + \(l)·(12·\(c)² + 2·\(c)) + \(c)" + (config.bias ? " + \(l)·11·\(c) + \(c)" : "")
    }

    /// The closed form with each product worked out, as in "2,080 + 256 + 2·(12,288 + 64) + 32".
    public var workedOut: String {
        let (v, t, c, l) = (config.vocabSize, config.blockSize, config.embedDim, config.numLayers)
        func g(_ value: Int) -> String { Format.grouped(value) }
        let text = g(v * c) + " + " + g(t * c) + " + \(l)·(" + g(12 * c * c) + " + " + g(2 * c) + ") + " + g(c)
        return text + (config.bias ? " + \(l)·" + g(11 * c) + " + " + g(c) : "")
    }

    /// The value of the closed form, `config.parameterCount`.
    public var expectedTotal: Int { config.parameterCount }

    /// Whether the counted parameters and the closed form agree, in total and in every component.
    public var agrees: Bool {
        countedTotal == expectedTotal && components.allSatisfy { $0.expected == $0.counted }
    }

    /// Returns the breakdown as a table: one row per component and a total row.
    public func table() -> Table {
        var table = Table(columns: [
            Table.Column("component", alignment: .left), Table.Column("formula", alignment: .left),
            Table.Column("filled in", alignment: .left), "formula value", "counted",
        ])
        for component in components {
            table.addRow([
                component.name, component.formula, component.filledIn,
                Format.grouped(component.expected), Format.grouped(component.counted),
            ])
        }
        table.addSeparator()
        table.addRow(["total", "", "", Format.grouped(expectedTotal), Format.grouped(countedTotal)])
        return table
    }

    /// Returns one line with the closed form, its worked-out value and whether the count agrees, as in
    /// "parameters: V·C + … = 2,016 + 512 + 2·(12,288 + 64) + 32 = 27,264, the same as counted".
    public func summaryLine() -> String {
        let verdict = agrees
            ? "the same as counted"
            : "but the model holds " + Format.grouped(countedTotal)
        return "parameters: " + formula + " = " + workedOut + " = " + Format.grouped(expectedTotal) + ", " + verdict
    }

    /// Returns the closed form of the whole model written out three times (letters, sizes, products)
    /// and whether the count of the built model agrees with it.
    public func formulaLines() -> String {
        let verdict = agrees
            ? "the counted parameters agree with the closed form"
            : "the counted parameters (" + Format.grouped(countedTotal) + ") DIFFER from the closed form"
        return [
            "closed form  " + formula,
            "           = " + filledIn,
            "           = " + workedOut + " = " + Format.grouped(expectedTotal),
            verdict,
        ].joined(separator: "\n")
    }
}
