import Foundation

/// One run of a comparison: its settings, what it measured, and whether it diverged.
public struct ComparedRun {
    /// A short name such as "lr ×10" or "no clipping".
    public let label: String
    /// The settings the run used.
    public let config: TrainingConfig
    /// Every step and evaluation the run completed.
    public let history: TrainingHistory
    /// The divergence that stopped the run early, or nil when it finished.
    public let divergence: TrainingError?

    /// The step at which the run diverged, or nil when it finished.
    public var divergedAtStep: Int? {
        if case let .diverged(step, _, _, _, _)? = divergence { return step }
        return nil
    }

    /// The steps whose gradients clipping scaled down.
    public var clippedSteps: Int {
        history.steps.filter { $0.wasClipped(maxGradNorm: config.maxGradNorm) }.count
    }
}

/// Trains one run per configuration on `text`, one after the other, each from the seed in its configuration.
///
/// A run that diverges is recorded with its error and the comparison goes on with the next one;
/// nothing is saved. `onStep` receives the run's index and each completed step.
/// - Throws: errors other than divergence, such as invalid settings or a text too short.
public func compareRuns(
    _ runs: [(label: String, config: TrainingConfig)], text: String,
    onStart: (Int, Trainer) -> Void = { _, _ in },
    onStep: (Int, StepRecord) -> Void = { _, _ in },
    onEnd: (Int) -> Void = { _ in }
) throws -> [ComparedRun] {
    var results: [ComparedRun] = []
    for (index, run) in runs.enumerated() {
        let trainer = try Trainer(config: run.config, text: text)
        onStart(index, trainer)
        var divergence: TrainingError?
        do {
            try trainer.run(onStep: { onStep(index, $0) })
        } catch let error as TrainingError {
            guard case .diverged = error else { throw error }
            divergence = error
        }
        onEnd(index)
        results.append(ComparedRun(label: run.label, config: trainer.config, history: trainer.history, divergence: divergence))
    }
    return results
}
