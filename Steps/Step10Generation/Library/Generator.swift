import MLPStep
import Tensor
import TransformerStep

/// Generates text with a trained model, one token at a time: each new token is appended to the
/// context and the model runs again.
///
/// The context is cropped from the left to the model's block size before every step, so generation
/// can run far past the block size; the model then sees only the last `blockSize` tokens. No graph is
/// recorded. Without a key/value cache, each step recomputes every position of the context.
/// `onToken` receives each new id as soon as it is chosen.
/// - Returns: the `maxNewTokens` new ids, each in `0 ..< vocabSize`, without the prompt.
/// - Throws: `GenerationError.invalidSetting` for settings `validate(vocabSize:)` rejects, and
///   `GenerationError.nonFiniteLogits` when the model returns a NaN or infinite logit.
public func generate(
    model: some LanguageModel, prompt: [Int], maxNewTokens: Int, vocabSize: Int, settings: SamplingSettings,
    generator: inout SeededGenerator, onToken: (Int) -> Void = { _ in }
) throws -> [Int] {
    precondition(!prompt.isEmpty, "generate: the prompt needs at least one token")
    try settings.validate(vocabSize: vocabSize)
    model.setTraining(false)
    var ids = prompt
    for _ in 0..<maxNewTokens {
        let context = Array(ids.suffix(model.blockSize))
        let lastLogits = Tensor.withoutGradients { () -> [Float] in
            let logits = model.logits(context, shape: [1, context.count])
            let width = logits.shape[2]
            return Array(logits.data[((context.count - 1) * width)...])
        }
        precondition(lastLogits.count == vocabSize, "generate: the model returns \(lastLogits.count) logits, the vocabulary has \(vocabSize) ids")
        let probabilities = try nextTokenProbabilities(logits: lastLogits, settings: settings)
        let next = settings.isGreedy ? argmax(probabilities) : generator.nextIndex(weights: probabilities)
        ids.append(next)
        onToken(next)
    }
    return Array(ids.dropFirst(prompt.count))
}
