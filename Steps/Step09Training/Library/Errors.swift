import StepKit

/// A training run that cannot start or cannot go on.
public enum TrainingError: Error, CustomStringConvertible {
    /// A `--preset` name that `TrainingConfig.preset(named:)` does not know.
    case unknownPreset(String, known: [String])
    /// A setting no run can use, named by its flag.
    case invalidSetting(flag: String, value: String, rule: String)
    /// A loss or gradient norm that is not finite, or a loss far above the first step's; the step's
    /// update was not applied.
    case diverged(step: Int, what: String, value: Float, learningRate: Float, advice: String)
    /// A checkpoint saved with other settings, another vocabulary or another text.
    case checkpointMismatch(folder: String, detail: String)
    /// A new run whose run folder already contains a checkpoint.
    case checkpointExists(folder: String)
    /// A checkpoint folder without one of its files.
    case checkpointMissing(folder: String, file: String)

    /// The message for the user: what happened, the value, and what to do.
    public var description: String {
        switch self {
        case let .unknownPreset(name, known):
            return "unknown preset \"\(name)\"; choose one of: \(known.joined(separator: ", "))"
        case let .invalidSetting(flag, value, rule):
            return "\(flag) \(value) is invalid: it \(rule)"
        case let .diverged(step, what, value, learningRate, advice):
            return "training diverged at step \(step): the \(what) is \(Format.significant(value))"
                + " at learning rate \(Format.significant(learningRate)), so the step's update was not applied. \(advice)"
        case let .checkpointMismatch(folder, detail):
            return "cannot resume from \(folder): \(detail). Use the same settings and text as the saved run,"
                + " or start a new run with another --out folder"
        case let .checkpointExists(folder):
            return "\(folder) already contains the checkpoint of a run, and a new run would replace it."
                + " Pass --resume \(folder) to continue that run, another --out folder to start a new run beside it,"
                + " or --overwrite to replace it"
        case let .checkpointMissing(folder, file):
            return "\(folder) is not a complete checkpoint: \(file) is missing. Point --resume or --checkpoint"
                + " at a folder written by Step09Training"
        }
    }
}
