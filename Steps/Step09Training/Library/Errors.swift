/// A training run that cannot start or cannot go on.
public enum TrainingError: Error, CustomStringConvertible {
    case unknownPreset(String, known: [String])
    case invalidSetting(flag: String, value: String, rule: String)
    case diverged(step: Int, what: String, value: Float, learningRate: Float, advice: String)
    case checkpointMismatch(folder: String, detail: String)
    case checkpointMissing(folder: String, file: String)

    public var description: String {
        switch self {
        case let .unknownPreset(name, known):
            return "unknown preset \"\(name)\"; choose one of: \(known.joined(separator: ", "))"
        case let .invalidSetting(flag, value, rule):
            return "\(flag) \(value) is invalid: it \(rule)"
        case let .diverged(step, what, value, learningRate, advice):
            return "training diverged at step \(step): the \(what) is \(value) (learning rate \(learningRate)). \(advice) The last good checkpoint was kept."
        case let .checkpointMismatch(folder, detail):
            return "cannot resume from \(folder): \(detail). Use the same configuration and text as the saved run, or start a new run with another --out folder"
        case let .checkpointMissing(folder, file):
            return "\(folder) is not a complete checkpoint: \(file) is missing. Point --resume or --checkpoint at a folder written by Step09Training"
        }
    }
}
