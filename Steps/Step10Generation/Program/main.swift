import Foundation
import GenerationStep
import StepKit
import Tensor
import TrainingStep

runStepProgram {
    var flags = FlagParser(
        program: "Step10Generation",
        summary: "Writes text with a model trained by Step09Training, one token at a time: each new token is appended"
            + " to the context and the model runs again. --strategy argmax always takes the most likely token;"
            + " sample draws it from the probabilities, sharpened or flattened by --temperature and cut to the --top-k"
            + " most likely. Prompt characters must be in the model's vocabulary (--show-vocabulary lists it);"
            + " a prompt with others is rejected, never mapped to [UNK]. Without a checkpoint in runs/default it first"
            + " trains one with the default preset, in memory, and says so.")
    let standard = flags.standardFlags()
    let checkpoint = flags.optionalPath(
        "checkpoint", help: "run folder or checkpoint folder written by Step09Training (default: runs/default)")
    let strategy = flags.choice(
        "strategy", default: DecodingStrategy.sample,
        help: "how the next token is chosen; argmax ignores --temperature and --top-k")
    let temperature = flags.float(
        "temperature", default: 1, help: "divides the logits before the softmax: below 1 sharpens, above 1 flattens, 0 means argmax")
    let topK = flags.optionalInt("top-k", help: "sample only from the k most likely tokens, 1 to the vocabulary size (default: all)")
    let samples = flags.int("samples", default: 3, range: .atLeast(1), help: "texts to generate, one after the other")
    let maxNewTokens = flags.int("max-new-tokens", default: 200, range: .atLeast(0), help: "tokens to generate per text")
    let prompt = flags.string(
        "prompt", default: "",
        help: "text to continue; only characters of the model's vocabulary (empty: start a new line)")
    let showDistribution = flags.bool(
        "show-distribution", help: "draw the next-token probabilities after the prompt at temperatures 0.5, 1 and 2 as bars")
    let showVocabulary = flags.bool("show-vocabulary", help: "list the characters the model knows, then exit")
    let timing = flags.bool("timing", help: "print the generation speed in tokens per second (varies from run to run)")
    try flags.parse(CommandLine.arguments.dropFirst())

    let trained = try loadOrTrain(
        checkpointPath: checkpoint.value, standard: standard,
        textGiven: standard.text.isSet || standard.textFile.isSet)
    let tokenizer = trained.tokenizer

    if showVocabulary.value {
        let labels = (1..<tokenizer.vocabSize).map { tokenizer.label(for: $0) }
        print("\(tokenizer.vocabSize - 1) characters (␠ is a space, \\n a newline), plus [UNK] for id 0:")
        print(labels.joined(separator: " "))
        return
    }

    let settings = SamplingSettings(strategy: strategy.value, temperature: temperature.value, topK: topK.value)
    try settings.validate(vocabSize: tokenizer.vocabSize)
    let promptIDs = try encodePrompt(prompt.value, tokenizer: tokenizer)
    let rule = settings.isGreedy
        ? "argmax (the most likely token every time)"
        : "sample at temperature \(Format.significant(settings.temperature))"
            + (settings.topK.map { " from the top \($0)" } ?? " from all \(tokenizer.vocabSize) tokens")
    print("Decoding: \(rule), \(maxNewTokens.value) new tokens per sample, seed \(standard.seed.value)")
    if strategy.value == .argmax && (temperature.isSet || topK.isSet) {
        print("Note: --strategy argmax always takes the most likely token, so --temperature and --top-k are ignored.")
    }
    print()

    // Every sample draws from the same generator, one after the other, so --seed fixes them all.
    var generator = SeededGenerator(seed: standard.seed.value)
    var texts: [String] = []
    let started = Date()
    for index in 1...samples.value {
        let ids = try generate(
            model: trained.model, prompt: promptIDs, maxNewTokens: maxNewTokens.value,
            vocabSize: tokenizer.vocabSize, settings: settings, generator: &generator)
        let text = prompt.value + (try tokenizer.decode(ids))
        if let earlier = texts.firstIndex(of: text) {
            print("── sample \(index): the same text as sample \(earlier + 1)")
        } else {
            print("── sample \(index) " + String(repeating: "─", count: 40))
            print(text)
        }
        texts.append(text)
    }
    let seconds = Date().timeIntervalSince(started)
    if timing.value || Terminal.isStandardErrorTerminal, seconds > 0 {
        fflush(stdout)
        let tokens = samples.value * maxNewTokens.value
        let line = "generated \(tokens) tokens in " + Format.duration(seconds: seconds) + ": "
            + Format.compact(Double(tokens) / seconds) + " tokens/s\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    // What sampling draws from: the model's probabilities for the token after the prompt.
    print()
    let shownPrompt = prompt.value.isEmpty ? "the start of a line" : "\"" + Format.visible(prompt.value) + "\""
    print("Next-token probabilities after \(shownPrompt), top 5 at three temperatures:")
    let logits = trained.nextTokenLogits(after: promptIDs)
    if showDistribution.value {
        print(try distributionChart(logits: logits, tokenizer: tokenizer))
    } else {
        print(try distributionSummary(logits: logits, tokenizer: tokenizer))
        print("(--show-distribution draws them as bars)")
    }
}

/// Returns the model of the checkpoint at `checkpointPath`, or of `runs/default` when no path is
/// given. When no path is given and `runs/default` has no checkpoint, it trains one with the
/// default preset on the corpus of the standard flags and keeps it in memory.
/// - Throws: `StepError` when `--text` or `--text-file` is given with a checkpoint, whose
///   vocabulary is fixed; the checkpoint's own loading errors.
func loadOrTrain(checkpointPath: String?, standard: StandardFlags, textGiven: Bool) throws -> TrainedModel {
    let path = checkpointPath ?? "runs/default"
    let folder = URL(fileURLWithPath: path)
    let hasCheckpoint = (try? Trainer.checkpointFolder(folder)) != nil
    if checkpointPath != nil || hasCheckpoint {
        if textGiven {
            throw StepError(
                "--text and --text-file choose the text of a quick training run, but the checkpoint in \(path) was"
                    + " trained on its own text and keeps its vocabulary. To generate from a model of another text,"
                    + " train one with `swift run Step09Training --text-file FILE --out runs/NAME` and pass --checkpoint runs/NAME.")
        }
        let trained = try TrainedModel.load(from: folder)
        let model = trained.config.model
        print("Checkpoint: \(path), step \(trained.step) · \(model.numLayers) layers, embed dim \(model.embedDim),"
            + " block size \(model.blockSize) · vocabulary \(trained.tokenizer.vocabSize) tokens")
        return trained
    }

    let corpus = try standard.loadCorpus()
    let config = try TrainingConfig.preset(named: "default")
    print("No checkpoint in \(path), so this run first trains one with the default preset (\(config.maxSteps) steps,"
        + " a few seconds) on \(corpus.summary) and keeps it in memory.")
    print("To train and save one instead: swift run Step09Training")
    let trainer = try Trainer(config: config, text: corpus.text)
    let progress = ProgressBar(
        total: config.maxSteps, label: "training", rateUnit: "tokens", rateUnitsPerCount: Double(trainer.tokensPerStep))
    try trainer.run(onStep: { record in
        progress.update(record.step, status: "loss " + Format.fixed(record.loss, digits: 3))
    })
    progress.finish()
    let last = trainer.history.evaluations.last
    print("Trained \(trainer.step) steps: train loss " + Format.fixed(last?.trainLoss ?? .nan, digits: 4)
        + ", validation loss " + Format.fixed(last?.validationLoss ?? .nan, digits: 4))
    return TrainedModel(trainer: trainer)
}
