import Dispatch
import Foundation
import StepKit
import Tensor
import TrainingStep

/// The presets of `--preset`.
enum Preset: String, CaseIterable {
    case `default`
    case shakespeareCPU = "shakespeare-cpu"
}

runStepProgram {
    var flags = FlagParser(
        program: "Step09Training",
        summary: "Trains step 08's GPT with AdamW, a warmup-then-cosine learning-rate schedule, gradient clipping,"
            + " regular train and validation evaluations, and checkpoints that a run resumes from exactly."
            + " --compare-lr trains the learning rate ×10 and ÷10 side by side; --compare-clip trains a high learning rate"
            + " with and without clipping. Ctrl-C stops after the current step, saves, and prints how to resume.")
    let standard = flags.standardFlags(seed: 1337)
    let preset = flags.choice(
        "preset", default: Preset.default,
        help: "the starting settings: default trains in seconds on the embedded corpus;"
            + " shakespeare-cpu is nanoGPT's CPU configuration for tinyshakespeare (use a release build)")
    let learningRate = flags.optionalDouble("lr", range: .above(0), help: "peak learning rate, reached at the end of warmup")
    let minLearningRate = flags.optionalDouble(
        "min-lr", range: .atLeast(0),
        help: "learning rate at the last step (default: the preset's, or --lr / 10 when --lr is given)")
    let warmupSteps = flags.optionalInt("warmup-steps", range: .atLeast(0), help: "steps of linear warmup")
    let maxSteps = flags.optionalInt(
        "max-steps", range: .atLeast(1),
        help: "optimizer steps in the run; the cosine decay ends at the last one, so a resumed run keeps the saved value")
    let batchSize = flags.optionalInt("batch-size", range: .atLeast(1), help: "sequences per batch, B")
    let blockSize = flags.optionalInt("block-size", range: .atLeast(1), help: "context length in tokens, T")
    let embedDim = flags.optionalInt("embed-dim", range: .atLeast(1), help: "width of each token vector, C")
    let heads = flags.optionalInt("heads", range: .atLeast(1), help: "attention heads per block; must divide --embed-dim")
    let layers = flags.optionalInt("layers", range: .atLeast(1), help: "transformer blocks")
    let dropout = flags.optionalDouble("dropout", range: .atLeast(0, below: 1), help: "dropout probability while training")
    let clip = flags.optionalDouble("clip", range: .above(0), help: "max gradient norm: larger gradients are scaled down to it")
    let noClip = flags.bool("no-clip", help: "train without gradient clipping")
    let valFraction = flags.optionalDouble("val-fraction", range: .atLeast(0, below: 1), help: "share of the text, from its end, kept for validation")
    let evalInterval = flags.optionalInt("eval-interval", range: .atLeast(1), help: "steps between two evaluations of train and validation loss")
    let evalBatches = flags.optionalInt("eval-batches", range: .atLeast(1), help: "batches per split averaged in each evaluation")
    let checkpointInterval = flags.optionalInt("checkpoint-interval", range: .atLeast(1), help: "steps between two checkpoints (the end always saves one)")
    let out = flags.optionalPath("out", help: "run folder for the checkpoint (default: runs/<preset>, or the --resume folder)")
    let resume = flags.optionalPath("resume", help: "continue the run saved in this folder, with the same text")
    let overwrite = flags.bool("overwrite", help: "let a new run replace the checkpoint already in its --out folder")
    let plot = flags.optionalPath("plot", help: "write the loss curves and the learning rate to this SVG file")
    let stopAfter = flags.optionalInt(
        "stop-after", range: .atLeast(1), help: "stop after this step, save and print how to resume, as Ctrl-C does")
    let compareLR = flags.bool("compare-lr", help: "train the learning rate ÷10, as set, and ×10 from the same seed and compare them")
    let compareClip = flags.bool(
        "compare-clip", help: "train a high learning rate (10× the preset's unless --lr is given) with and without clipping")
    let timing = flags.bool("timing", help: "add milliseconds per step to the log and print the run's speed (varies from run to run)")
    try flags.parse(CommandLine.arguments.dropFirst())

    if clip.isSet && noClip.value {
        throw StepError("--clip and --no-clip were both given. Pass --clip X to clip at X, or --no-clip to turn clipping off.")
    }
    if compareLR.value && compareClip.value {
        throw StepError("--compare-lr and --compare-clip were both given, but the program runs one comparison at a time. Pass one of them.")
    }
    if (compareLR.value || compareClip.value) && (resume.isSet || out.isSet || stopAfter.isSet) {
        throw StepError(
            "--resume, --out and --stop-after do not apply to a comparison, whose runs save no checkpoints."
                + " Leave them out, or drop the comparison flag.")
    }

    /// Returns `base` with every flag given on the command line applied to it.
    func applyFlags(to base: TrainingConfig) -> TrainingConfig {
        var config = base
        if let value = learningRate.value { config.learningRate = Float(value) }
        if let value = minLearningRate.value { config.minLearningRate = Float(value) }
        // An --lr below the preset's minimum would make the decay climb; keep the preset's ratio instead.
        if learningRate.isSet && !minLearningRate.isSet {
            config.minLearningRate = config.learningRate * base.minLearningRate / base.learningRate
        }
        if let value = warmupSteps.value { config.warmupSteps = value }
        if let value = maxSteps.value { config.maxSteps = value }
        if let value = batchSize.value { config.batchSize = value }
        if let value = blockSize.value { config.model.blockSize = value }
        if let value = embedDim.value { config.model.embedDim = value }
        if let value = heads.value { config.model.numHeads = value }
        if let value = layers.value { config.model.numLayers = value }
        if let value = dropout.value { config.model.dropout = Float(value) }
        if let value = clip.value { config.maxGradNorm = Float(value) }
        if noClip.value { config.maxGradNorm = nil }
        if let value = valFraction.value { config.valFraction = value }
        if let value = evalInterval.value { config.evalInterval = value }
        if let value = evalBatches.value { config.evalBatches = value }
        if let value = checkpointInterval.value { config.checkpointInterval = value }
        if standard.seed.isSet { config.seed = standard.seed.value }
        return config
    }

    let corpus = try standard.loadCorpus()
    var presetConfig = try TrainingConfig.preset(named: preset.value.rawValue)
    presetConfig.seed = standard.seed.value
    print("Text: " + corpus.summary)

    // The two experiments: several runs from the same seed, compared at the end.
    if compareLR.value || compareClip.value {
        var base = applyFlags(to: presetConfig)
        var runs: [(label: String, config: TrainingConfig)] = []
        if compareLR.value {
            for (label, factor) in [("lr ÷10", Float(0.1)), ("lr as set", 1), ("lr ×10", 10)] {
                var config = base
                config.learningRate *= factor
                config.minLearningRate *= factor
                runs.append((label, config))
            }
        } else {
            if !learningRate.isSet {
                base.learningRate *= 10
                base.minLearningRate *= 10
            }
            var clipped = base
            clipped.maxGradNorm = base.maxGradNorm ?? 1
            var unclipped = base
            unclipped.maxGradNorm = nil
            runs = [("clip \(Format.significant(clipped.maxGradNorm!))", clipped), ("no clip", unclipped)]
        }
        try runComparison(runs, corpus: corpus, plotPath: plot.value, showsTiming: timing.value)
        return
    }

    // One run, fresh or resumed.
    let trainer: Trainer
    // The folder as the user wrote it, so printed paths and commands match the command line.
    let runPath: String
    if let resumePath = resume.value {
        let folder = URL(fileURLWithPath: resumePath)
        let saved = try Trainer.loadConfig(from: folder).config
        let requested = applyFlags(to: preset.isSet ? presetConfig : saved)
        trainer = try Trainer.resume(
            from: folder, config: requested, text: corpus.text,
            derivedMinLearningRate: learningRate.isSet && !minLearningRate.isSet)
        runPath = out.value ?? resumePath
        print("Resuming \(resumePath) at step \(trainer.step) of \(trainer.config.maxSteps)")
        if trainer.isFinished {
            throw StepError(
                "the run in \(resumePath) has already done all \(trainer.config.maxSteps) steps, and its learning rate has"
                    + " decayed to the minimum. A resumed run keeps its --max-steps, because a larger one would raise the"
                    + " learning rate again. To train longer, start a new run with a larger --max-steps.")
        }
    } else {
        runPath = out.value ?? "runs/\(preset.value.rawValue)"
        try Trainer.checkNewRunFolder(URL(fileURLWithPath: runPath), overwrite: overwrite.value)
        trainer = try Trainer(config: applyFlags(to: presetConfig), text: corpus.text)
        trainer.textSource = textSource(corpus.source)
    }
    let runFolder = URL(fileURLWithPath: runPath)
    print(describe(trainer))
    print("Checkpoints: \(runPath)/checkpoint, every \(trainer.config.checkpointInterval) steps and at the end")
    print()

    let interrupt = InterruptRequest()
    interrupt.install()
    let firstStep = trainer.step
    let progress = ProgressBar(
        total: trainer.config.maxSteps - firstStep, label: "training", rateUnit: "tokens",
        rateUnitsPerCount: Double(trainer.tokensPerStep))
    let log = EvaluationLog(maxSteps: trainer.config.maxSteps, showsTiming: timing.value)
    var lastCheckpointStep: Int?
    let started = Date()

    print(log.header)
    print(log.rule)
    let end: RunEnd
    do {
        end = try trainer.run(
            checkpointFolder: runFolder,
            stopRequested: { interrupt.isRequested || trainer.step == stopAfter.value },
            onStep: { record in
                progress.update(record.step - firstStep, status: "loss " + Format.fixed(record.loss, digits: 3))
            },
            onEvaluation: { evaluation, statistics in
                clearProgressLine()
                print(log.line(evaluation, statistics: statistics, learningRate: trainer.history.steps.last?.learningRate))
                flushStandardOutput()
            },
            onCheckpoint: { _ in lastCheckpointStep = trainer.step })
    } catch let error as TrainingError {
        progress.finish()
        guard case .diverged = error else { throw error }
        print()
        print(trainer.history.sparklines())
        flushStandardOutput()
        let kept = lastCheckpointStep.map { "The last checkpoint, \(runPath)/checkpoint at step \($0), was kept." }
            ?? "This run wrote no checkpoint and changed nothing in \(runPath)."
        throw StepError(error.description + " " + kept)
    }
    progress.finish()

    print()
    print(trainer.history.sparklines())
    if timing.value || Terminal.isStandardErrorTerminal {
        printSpeed(stepCount: trainer.step - firstStep, tokensPerStep: trainer.tokensPerStep, seconds: Date().timeIntervalSince(started))
    }
    if let path = plot.value {
        try trainer.history.plot(title: "Step 09: training, \(preset.value.rawValue) preset").write(toPath: path)
        print("Wrote the loss curves and the learning rate to \(path)")
    }

    print()
    switch end {
    case .finished:
        print("Saved the checkpoint of step \(trainer.step) to \(runPath)/checkpoint")
        print("Generate text from it: swift run Step10Generation --checkpoint \(runPath)")
    case .interrupted:
        var command = "swift run Step09Training --resume \(runPath)"
        if let path = standard.textFile.value { command += " --text-file \(path)" }
        if standard.text.isSet { command += " --text <the same text>" }
        print("Interrupted: saved the checkpoint of step \(trainer.step) to \(runPath)/checkpoint")
        print("Resume with: \(command)")
    }
}

// MARK: - Helpers

/// Returns a few lines describing the model and the training settings of `trainer`.
func describe(_ trainer: Trainer) -> String {
    let config = trainer.config
    let model = config.model
    let clipping = config.maxGradNorm.map { "clip " + Format.significant($0) } ?? "no clipping"
    // The decay starts after the warmup and ends at the last step, so a run no longer than its
    // warmup plus one step never decays (see `LearningRateSchedule`).
    let schedule = config.maxSteps - 1 > config.warmupSteps
        ? "warmup \(config.warmupSteps), cosine decay"
        : "warmup \(config.warmupSteps) fills the whole run, so the rate never decays"
    return [
        "Vocabulary: \(trainer.tokenizer.vocabSize) tokens · " + Format.grouped(trainer.dataset.train.count) + " training and "
            + Format.grouped(trainer.dataset.validation.count) + " validation tokens",
        "Model: \(counted(model.numLayers, "layer")), \(counted(model.numHeads, "head")), embed dim \(model.embedDim), block size \(model.blockSize),"
            + " dropout \(Format.significant(model.dropout)) · " + Format.grouped(trainer.model.parameterCount) + " parameters",
        "Training: \(config.maxSteps) steps of batch size \(config.batchSize) (\(trainer.tokensPerStep) tokens), AdamW lr "
            + Format.significant(config.learningRate) + " → " + Format.significant(config.minLearningRate)
            + " (\(schedule)), weight decay " + Format.significant(config.weightDecay)
            + ", betas \(Format.significant(config.beta1))/\(Format.significant(config.beta2)), \(clipping), seed \(config.seed)",
        "Evaluation: every \(config.evalInterval) steps, \(config.evalBatches) batches per split."
            + " An untrained model starts near ln(\(trainer.tokenizer.vocabSize)) = "
            + Format.fixed(log(Double(trainer.tokenizer.vocabSize)), digits: 4),
    ].joined(separator: "\n")
}

/// Returns the flags that choose the text of `source`, as in "--text-file data/tinyshakespeare.txt".
func textSource(_ source: Corpus.Source) -> String {
    switch source {
    case .embedded: return "the embedded default corpus (no --text or --text-file)"
    case .literal: return "a --text string"
    case .file(let path): return "--text-file " + path
    }
}

/// Returns "1 layer" or "4 layers".
func counted(_ count: Int, _ noun: String) -> String {
    "\(count) \(noun)" + (count == 1 ? "" : "s")
}

/// Trains every run of a comparison, then prints the table, one sparkline per run and, with a
/// plot path, one SVG of all batch losses.
func runComparison(
    _ runs: [(label: String, config: TrainingConfig)], corpus: Corpus, plotPath: String?, showsTiming: Bool
) throws {
    let first = runs[0].config
    print("Each run: \(first.maxSteps) steps of batch size \(first.batchSize), block size \(first.model.blockSize),"
        + " \(counted(first.model.numLayers, "layer")), embed dim \(first.model.embedDim), warmup \(first.warmupSteps), seed \(first.seed)")
    print("Runs: " + runs.map { "\($0.label) (lr \(Format.significant($0.config.learningRate)), "
        + ($0.config.maxGradNorm.map { "clip " + Format.significant($0) } ?? "no clip") + ")" }.joined(separator: ", "))

    var progress: ProgressBar?
    var started = Date()
    let results = try compareRuns(
        runs, text: corpus.text,
        onStart: { index, trainer in
            progress = ProgressBar(
                total: trainer.config.maxSteps, label: runs[index].label, rateUnit: "tokens",
                rateUnitsPerCount: Double(trainer.tokensPerStep))
            started = Date()
        },
        onStep: { _, record in
            progress?.update(record.step, status: "loss " + Format.fixed(record.loss, digits: 3))
        },
        onEnd: { index in
            progress?.finish()
            if showsTiming {
                let steps = runs[index].config.maxSteps
                let tokens = runs[index].config.batchSize * runs[index].config.model.blockSize
                printSpeed(stepCount: steps, tokensPerStep: tokens, seconds: Date().timeIntervalSince(started))
            }
        })

    print()
    print(runComparisonTable(results).render())
    print()
    print("Batch loss of each run:")
    print(runComparisonSparklines(results))
    for run in results {
        if let error = run.divergence {
            print()
            print("\(run.label): \(error)")
        }
    }
    if let plotPath {
        try runComparisonPlot(results, title: "Step 09: " + runs.map(\.label).joined(separator: " vs ")).write(toPath: plotPath)
        print()
        print("Wrote the batch losses to \(plotPath)")
    }
}

/// Writes the milliseconds per step and tokens per second of a run to standard error. `seconds`
/// is the run's wall-clock time, so evaluations and checkpoints count too; the log's ms/step column
/// counts training steps alone.
func printSpeed(stepCount: Int, tokensPerStep: Int, seconds: Double) {
    guard stepCount > 0, seconds > 0 else { return }
    flushStandardOutput()
    let text = "\(stepCount) steps in " + Format.duration(seconds: seconds) + " with evaluations and checkpoints: "
        + Format.fixed(seconds * 1000 / Double(stepCount), digits: 1) + " ms/step, "
        + Format.compact(Double(stepCount * tokensPerStep) / seconds) + " tokens/s\n"
    FileHandle.standardError.write(Data(text.utf8))
}

/// Erases the progress bar's line on a terminal, so a log line printed next starts at column 0.
func clearProgressLine() {
    if Terminal.isStandardErrorTerminal {
        flushStandardOutput()
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

/// Flushes standard output, so log lines appear in order with the progress bar on standard error.
func flushStandardOutput() {
    fflush(stdout)
}

/// A Ctrl-C request. The first SIGINT makes the training loop stop after the current step and
/// save. A second one exits at once, and because saves are atomic the last checkpoint stays whole.
final class InterruptRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var source: DispatchSourceSignal?

    /// Whether Ctrl-C was pressed.
    var isRequested: Bool {
        lock.lock()
        defer { lock.unlock() }
        return count > 0
    }

    /// Replaces the default SIGINT action (exit at once) with a handler on a background queue.
    func install() {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue.global())
        source.setEventHandler { [self] in
            lock.lock()
            count += 1
            let presses = count
            lock.unlock()
            let message = presses == 1
                ? "\nCtrl-C: stopping after the current step and saving a checkpoint (press again to quit without saving)\n"
                : "\nCtrl-C again: quitting without saving; the last checkpoint on disk is unchanged\n"
            FileHandle.standardError.write(Data(message.utf8))
            if presses > 1 { exit(130) }
        }
        source.resume()
        self.source = source
    }
}
