import Foundation
import TokenizerStep

/// The rule that picks the next token from the model's logits.
public enum DecodingStrategy: String, CaseIterable, Codable {
    /// Always the most likely token: the same prompt always gives the same text.
    case argmax
    /// A random draw from the (temperature-scaled, top-k-filtered) distribution.
    case sample
}

/// The settings of one generation.
public struct SamplingSettings: Equatable {
    /// Argmax or sampling.
    public var strategy: DecodingStrategy
    /// Logits are divided by this before the softmax: below 1 sharpens, above 1 flattens; 0 means argmax.
    public var temperature: Float
    /// When set, only the k most likely tokens can be drawn.
    public var topK: Int?

    /// Creates settings.
    public init(strategy: DecodingStrategy = .sample, temperature: Float = 1, topK: Int? = nil) {
        self.strategy = strategy
        self.temperature = temperature
        self.topK = topK
    }

    /// Throws `GenerationError.invalidSetting` unless temperature ≥ 0 and 1 ≤ topK ≤ vocabSize.
    public func validate(vocabSize: Int) throws {
        guard temperature >= 0, temperature.isFinite else {
            throw GenerationError.invalidSetting(
                flag: "--temperature", value: "\(temperature)",
                rule: "must be 0 or more (0 means argmax; 1 leaves the distribution as the model gives it)")
        }
        if let topK, topK < 1 || topK > vocabSize {
            throw GenerationError.invalidSetting(
                flag: "--top-k", value: "\(topK)", rule: "must be between 1 and the vocabulary size, \(vocabSize)")
        }
    }

    /// Whether these settings always pick the most likely token.
    public var isGreedy: Bool {
        strategy == .argmax || temperature == 0 || topK == 1
    }
}

/// Returns the probabilities the next token is drawn from: softmax(logits / temperature), with every
/// token outside the top k set to 0 and the rest renormalised. With greedy settings the most likely
/// token gets probability 1.
/// - Throws: `GenerationError.nonFiniteLogits` when a logit is NaN or infinite.
public func nextTokenProbabilities(logits: [Float], settings: SamplingSettings) throws -> [Float] {
    guard let badIndex = logits.firstIndex(where: { !$0.isFinite }) else {
        return probabilities(finiteLogits: logits, settings: settings)
    }
    throw GenerationError.nonFiniteLogits(id: badIndex, value: logits[badIndex])
}

private func probabilities(finiteLogits logits: [Float], settings: SamplingSettings) -> [Float] {
    var result = [Float](repeating: 0, count: logits.count)
    if settings.isGreedy {
        result[argmax(logits)] = 1
        return result
    }
    // Keep the k largest logits; ties at the k-th value are broken towards the lower id.
    var allowed = Array(logits.indices)
    if let topK = settings.topK, topK < logits.count {
        allowed = logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
            .prefix(topK).sorted()
    }
    let maximum = allowed.map { logits[$0] }.max() ?? 0
    var total: Double = 0
    for id in allowed {
        let weight = Foundation.exp(Double((logits[id] - maximum) / settings.temperature))
        result[id] = Float(weight)
        total += weight
    }
    for id in allowed { result[id] = Float(Double(result[id]) / total) }
    return result
}

/// Returns the id with the largest value; the lowest such id on ties.
public func argmax(_ values: [Float]) -> Int {
    var best = 0
    for (index, value) in values.enumerated() where value > values[best] {
        best = index
    }
    return best
}

/// Returns the entropy −Σ p·ln p of a distribution, in nats: 0 when one token is certain, ln(n)
/// when n tokens are equally likely. Terms with p = 0 add nothing.
public func entropy(_ probabilities: [Float]) -> Double {
    var total: Double = 0
    for p in probabilities where p > 0 {
        total -= Double(p) * Foundation.log(Double(p))
    }
    return total
}

/// Returns the ids of the `count` largest values with their values, largest first; ties go to
/// the lower id.
public func topTokens(_ probabilities: [Float], count: Int) -> [(id: Int, probability: Float)] {
    probabilities.indices
        .sorted { probabilities[$0] > probabilities[$1] || (probabilities[$0] == probabilities[$1] && $0 < $1) }
        .prefix(count)
        .map { ($0, probabilities[$0]) }
}

/// A generation input or state that cannot be used.
public enum GenerationError: Error, Equatable, CustomStringConvertible {
    /// A setting outside its valid range, named by its flag.
    case invalidSetting(flag: String, value: String, rule: String)
    /// A NaN or infinite logit from the model, with the first such token id.
    case nonFiniteLogits(id: Int, value: Float)
    /// An empty prompt with no newline in the vocabulary to start from instead.
    case emptyPrompt
    /// Prompt characters that the model's vocabulary lacks, each once, in order of appearance.
    case unknownCharacters([Unicode.Scalar], vocabSize: Int)

    /// The message for the user: what is wrong, the value, and what to do.
    public var description: String {
        switch self {
        case let .invalidSetting(flag, value, rule):
            return "\(flag) \(value) is invalid: it \(rule)"
        case let .nonFiniteLogits(id, value):
            return "the model produced a non-finite logit (\(value) for token id \(id)), so generation stopped."
                + " The checkpoint's weights are probably broken: train it again with a lower --lr"
        case .emptyPrompt:
            return "the prompt is empty and the vocabulary has no newline to start from; pass --prompt with at least one character"
        case let .unknownCharacters(scalars, vocabSize):
            let shown = scalars.map { "\"\(printableLabel($0))\" (" + String(format: "U+%04X", $0.value) + ")" }
            return "the prompt contains characters the model's vocabulary lacks: \(shown.joined(separator: ", "))."
                + " The model knows \(vocabSize - 1) characters; list them with --show-vocabulary and write the prompt with those only"
        }
    }
}

/// Returns the ids of a prompt. An empty prompt starts from a newline, the usual start of a line
/// of text, so the model begins a fresh line.
/// - Throws: `GenerationError.unknownCharacters` naming every character the vocabulary lacks (a
///   prompt is never mapped to `[UNK]`, because the model never saw `[UNK]` in training), and
///   `GenerationError.emptyPrompt` for an empty prompt when the vocabulary has no newline.
public func encodePrompt(_ prompt: String, tokenizer: CharTokenizer) throws -> [Int] {
    let unknown = tokenizer.unknownScalars(in: prompt)
    guard unknown.isEmpty else {
        throw GenerationError.unknownCharacters(unknown, vocabSize: tokenizer.vocabSize)
    }
    if prompt.isEmpty {
        guard tokenizer.unknownScalars(in: "\n").isEmpty else { throw GenerationError.emptyPrompt }
        return tokenizer.encode("\n")
    }
    return tokenizer.encode(prompt)
}
