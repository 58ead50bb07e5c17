import Foundation

/// Measurements of the steps between two evaluations: gradient norms, clipping and time.
public struct IntervalStatistics: Equatable {
    /// The steps in the interval.
    public var stepCount = 0
    /// The mean global gradient norm before clipping.
    public var meanGradNorm: Float = 0
    /// The largest global gradient norm before clipping.
    public var maxGradNorm: Float = 0
    /// The steps whose gradients were scaled down by clipping.
    public var clippedSteps = 0
    /// Wall-clock seconds the steps of this process took, without evaluations and checkpoints.
    public var seconds: Double = 0
    /// The steps `seconds` covers: fewer than `stepCount` when a resume split the interval.
    public var timedStepCount = 0

    /// Creates empty statistics.
    public init() {}

    /// Returns the statistics of `records` under the clipping threshold `maxGradNorm` (`nil` when
    /// clipping is off), of which the last `timedStepCount` took `seconds`.
    public init(records: some Collection<StepRecord>, maxGradNorm: Float?, seconds: Double, timedStepCount: Int) {
        stepCount = records.count
        let norms = records.map(\.gradNorm)
        meanGradNorm = norms.isEmpty ? 0 : norms.reduce(0, +) / Float(norms.count)
        self.maxGradNorm = norms.max() ?? 0
        clippedSteps = records.filter { $0.wasClipped(maxGradNorm: maxGradNorm) }.count
        self.seconds = seconds
        self.timedStepCount = timedStepCount
    }

    /// Milliseconds per step, or 0 when no step was timed.
    public var millisecondsPerStep: Double {
        timedStepCount == 0 ? 0 : seconds * 1000 / Double(timedStepCount)
    }
}

extension StepRecord {
    /// Returns whether clipping at `maxGradNorm` scaled this step's gradients down, by the rule of
    /// `clipGradientNorm`: the scale maxNorm / (norm + 1e-6) is below 1.
    public func wasClipped(maxGradNorm: Float?) -> Bool {
        guard let maxGradNorm else { return false }
        return maxGradNorm / (gradNorm + 1e-6) < 1
    }
}

/// The outcome of a call to `Trainer.run`.
public enum RunEnd: Equatable {
    /// Every step of the run is done.
    case finished
    /// `stopRequested` returned true; the run can be resumed from its checkpoint.
    case interrupted
}

extension Trainer {
    /// Trains until `config.maxSteps` steps are done or a stop is requested.
    ///
    /// Before the first step of a fresh run, and after every `config.evalInterval` steps and the
    /// last step, it evaluates both splits and calls `onEvaluation`. With a checkpoint folder it
    /// saves every `config.checkpointInterval` steps, after the last step, and when it stops early.
    /// `stopRequested` is checked after every step, so the step in progress always completes.
    /// - Throws: `TrainingError.diverged` from `trainStep()`; nothing is saved for that step, so the
    ///   last checkpoint on disk stays as it was. Also the errors of `evaluate()` and `saveCheckpoint(in:)`.
    @discardableResult
    public func run(
        checkpointFolder: URL? = nil,
        stopRequested: () -> Bool = { false },
        onStep: (StepRecord) -> Void = { _ in },
        onEvaluation: (Evaluation, IntervalStatistics) -> Void = { _, _ in },
        onCheckpoint: (URL) -> Void = { _ in }
    ) throws -> RunEnd {
        if step == 0 && history.evaluations.isEmpty {
            onEvaluation(try evaluate(), IntervalStatistics())
        }

        var intervalSeconds: Double = 0
        var timedSteps = 0
        while !isFinished {
            let started = Date()
            let record = try trainStep()
            intervalSeconds += Date().timeIntervalSince(started)
            timedSteps += 1
            onStep(record)

            if step % config.evalInterval == 0 || isFinished {
                // The records come from the history, so an interval that a resume split in two is
                // reported whole; only its seconds are this process's.
                let previousEvaluation = history.evaluations.last?.step ?? 0
                let interval = history.steps.filter { $0.step > previousEvaluation }
                let statistics = IntervalStatistics(
                    records: interval, maxGradNorm: config.maxGradNorm, seconds: intervalSeconds, timedStepCount: timedSteps)
                onEvaluation(try evaluate(), statistics)
                intervalSeconds = 0
                timedSteps = 0
            }
            let stopping = !isFinished && stopRequested()
            if let checkpointFolder, step % config.checkpointInterval == 0 || isFinished || stopping {
                try saveCheckpoint(in: checkpointFolder)
                onCheckpoint(checkpointFolder.appendingPathComponent("checkpoint"))
            }
            if stopping {
                return .interrupted
            }
        }
        return .finished
    }
}
