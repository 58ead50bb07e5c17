import Foundation

/// An error the user can cause and fix, such as an invalid flag combination or an unreadable file.
///
/// The message names the value, the rule it breaks and what to do instead, as in
/// `--heads 5 does not divide --embed-dim 32: pick a head count that divides it, such as 4 or 8`.
/// `runStepProgram` prints it after `error: ` and exits with status 1.
public struct StepError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The complete message, without the `error: ` prefix.
    public let message: String

    /// Creates an error with a complete message.
    public init(_ message: String) {
        self.message = message
    }

    /// Creates an error about an invalid value from its three parts, giving the message
    /// "invalid <what> <value>: <rule>. <fix>", as in
    /// `invalid --block-size 300: it must be at most 256, the longest context the model has. Pass --block-size 256 or less.`
    public init(invalid what: String, value: String, rule: String, fix: String) {
        self.message = "invalid \(what) \(value): \(rule). \(fix)"
    }

    /// The message, so `print(error)` and string interpolation show it.
    public var description: String { message }

    /// The message, so Foundation APIs that read `localizedDescription` show it.
    public var errorDescription: String? { message }
}
