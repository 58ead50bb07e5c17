import Foundation

/// A command-line flag whose `value` is filled in by `FlagParser.parse(_:)`.
///
/// Registering a flag on a `FlagParser` returns one of these. Before parsing, and for flags the
/// command line does not mention, `value` is the default.
public final class Flag<Value> {
    /// The flag's name without the leading dashes, as in `block-size`.
    public let name: String

    /// The value from the command line, or the default when the flag was not given.
    public fileprivate(set) var value: Value

    /// Whether the last parsed command line gave this flag.
    public fileprivate(set) var isSet = false

    fileprivate let defaultValue: Value

    fileprivate init(name: String, defaultValue: Value) {
        self.name = name
        self.value = defaultValue
        self.defaultValue = defaultValue
    }
}

/// A rule for the numbers a flag accepts, such as "at least 1" or "greater than 0".
public struct NumberRange<Bound: Comparable> {
    private let lower: Bound?
    private let lowerIsInclusive: Bool
    private let upper: Bound?
    private let upperIsInclusive: Bool

    private init(lower: Bound?, lowerIsInclusive: Bool, upper: Bound?, upperIsInclusive: Bool) {
        self.lower = lower
        self.lowerIsInclusive = lowerIsInclusive
        self.upper = upper
        self.upperIsInclusive = upperIsInclusive
    }

    /// Creates a range of the values greater than or equal to `bound`.
    public static func atLeast(_ bound: Bound) -> NumberRange {
        NumberRange(lower: bound, lowerIsInclusive: true, upper: nil, upperIsInclusive: false)
    }

    /// Creates a range of the values strictly greater than `bound`.
    public static func above(_ bound: Bound) -> NumberRange {
        NumberRange(lower: bound, lowerIsInclusive: false, upper: nil, upperIsInclusive: false)
    }

    /// Creates a range of the values less than or equal to `bound`.
    public static func atMost(_ bound: Bound) -> NumberRange {
        NumberRange(lower: nil, lowerIsInclusive: false, upper: bound, upperIsInclusive: true)
    }

    /// Creates a range of the values from `lower` to `upper`, both included.
    public static func between(_ lower: Bound, _ upper: Bound) -> NumberRange {
        precondition(lower <= upper, "NumberRange.between needs lower <= upper, got \(lower) and \(upper)")
        return NumberRange(lower: lower, lowerIsInclusive: true, upper: upper, upperIsInclusive: true)
    }

    /// Creates a range of the values from `lower`, included, up to `upper`, excluded.
    public static func atLeast(_ lower: Bound, below upper: Bound) -> NumberRange {
        precondition(lower < upper, "NumberRange.atLeast(_:below:) needs lower < upper, got \(lower) and \(upper)")
        return NumberRange(lower: lower, lowerIsInclusive: true, upper: upper, upperIsInclusive: false)
    }

    /// Returns whether `value` satisfies the rule.
    public func contains(_ value: Bound) -> Bool {
        if let lower {
            if lowerIsInclusive ? value < lower : value <= lower { return false }
        }
        if let upper {
            if upperIsInclusive ? value > upper : value >= upper { return false }
        }
        return true
    }

    /// The rule in words, as in "at least 1" or "from 0 to 1".
    public var rule: String {
        let lower = self.lower.map(describeFlagValue)
        let upper = self.upper.map(describeFlagValue)
        switch (lower, upper) {
        case let (lower?, upper?):
            if lowerIsInclusive && upperIsInclusive { return "from \(lower) to \(upper)" }
            let lowerWords = lowerIsInclusive ? "at least \(lower)" : "greater than \(lower)"
            let upperWords = upperIsInclusive ? "at most \(upper)" : "less than \(upper)"
            return lowerWords + " and " + upperWords
        case let (lower?, nil):
            return lowerIsInclusive ? "at least \(lower)" : "greater than \(lower)"
        case let (nil, upper?):
            return upperIsInclusive ? "at most \(upper)" : "less than \(upper)"
        case (nil, nil):
            return "any value"
        }
    }
}

/// An error in the command line: an unknown flag, a value of the wrong type or out of range,
/// a missing value, or an argument that is not a flag.
public enum FlagError: Error, Equatable, CustomStringConvertible {
    /// A flag no program flag matches, with the closest known flag when one is close enough.
    case unknownFlag(String, suggestion: String?)

    /// A value that does not parse as the flag's type; `expected` names the type.
    case invalidValue(flag: String, value: String, expected: String, defaultValue: String?)

    /// A value of the right type that breaks the flag's rule, such as "at least 1".
    case outOfRange(flag: String, value: String, rule: String, defaultValue: String?)

    /// A flag that needs a value but was last on the line or followed by another flag.
    case missingValue(flag: String, expected: String, defaultValue: String?)

    /// An argument that does not start with "-", such as a stray word.
    case unexpectedArgument(String)

    /// The error as one line for the user, naming the flag, the value and what to pass.
    public var description: String {
        switch self {
        case let .unknownFlag(flag, suggestion?):
            return "unknown flag \(flag). Did you mean \(suggestion)? Run with --help to list the flags."
        case let .unknownFlag(flag, nil):
            return "unknown flag \(flag). Run with --help to list the flags."
        case let .invalidValue(flag, value, expected, defaultValue):
            return "invalid value \"\(value)\" for \(flag): expected \(expected)" + Self.example(flag, defaultValue) + "."
        case let .outOfRange(flag, value, rule, defaultValue):
            return "invalid value \(value) for \(flag): the value must be \(rule)" + Self.example(flag, defaultValue) + "."
        case let .missingValue(flag, expected, defaultValue):
            return "missing value for \(flag): expected \(expected)" + Self.example(flag, defaultValue)
                + ". Write the value after the flag, as in \(flag) VALUE or \(flag)=VALUE."
        case let .unexpectedArgument(argument):
            return "unexpected argument \"\(argument)\": this program takes only flags, as in --name value."
                + " Run with --help to list the flags."
        }
    }

    private static func example(_ flag: String, _ defaultValue: String?) -> String {
        guard let defaultValue else { return "" }
        return ", such as the default \(flag) \(defaultValue)"
    }
}

/// A request for the usage text, thrown by `FlagParser.parse(_:)` when the command line
/// contains `--help` or `-h`. `runStepProgram` prints `usage` and exits with status 0.
public struct HelpRequest: Error, Equatable {
    /// The complete usage text of the program.
    public let usage: String
}

/// A declarative parser for kebab-case long flags such as `--block-size 8` or `--block-size=8`.
///
/// Register each flag, keep the returned `Flag`, then parse:
///
///     var flags = FlagParser(program: "Step00Bigram", summary: "Counts character pairs …")
///     let standard = flags.standardFlags()
///     let steps = flags.int("steps", default: 300, range: .atLeast(1), help: "gradient-descent steps")
///     let sample = flags.bool("sample", help: "draw the next character instead of taking the most likely")
///     try flags.parse(CommandLine.arguments.dropFirst())
///     print(steps.value)
///
/// Each help text should name what the flag sets and its unit, as in "context length in tokens".
/// Switches (`bool`) take no separate value: `--sample` turns one on, `--no-sample` turns it off,
/// and `--sample=false` is also accepted. A flag given twice keeps its last value.
public struct FlagParser {
    /// The program name shown in the usage text, such as `Step00Bigram`.
    public let program: String

    /// One paragraph saying what the program does, shown in the usage text.
    public let summary: String

    private var definitions: [Definition] = []

    /// Creates a parser with no flags registered.
    public init(program: String, summary: String) {
        self.program = program
        self.summary = summary
    }

    // MARK: Registering flags

    /// Registers an integer flag such as `--steps 300`.
    public mutating func int(
        _ name: String, default defaultValue: Int, range: NumberRange<Int>? = nil, help: String
    ) -> Flag<Int> {
        scalar(name, default: defaultValue, range: range, help: help)
    }

    /// Registers an integer flag that is `nil` unless given, such as `--top-k 10`.
    public mutating func optionalInt(
        _ name: String, range: NumberRange<Int>? = nil, help: String
    ) -> Flag<Int?> {
        optionalScalar(name, range: range, help: help)
    }

    /// Registers a non-negative 64-bit integer flag, the type of random seeds.
    public mutating func uint64(
        _ name: String, default defaultValue: UInt64, range: NumberRange<UInt64>? = nil, help: String
    ) -> Flag<UInt64> {
        scalar(name, default: defaultValue, range: range, help: help)
    }

    /// Registers a finite double-precision number flag such as `--lr 0.001` or `--lr 1e-3`.
    public mutating func double(
        _ name: String, default defaultValue: Double, range: NumberRange<Double>? = nil, help: String
    ) -> Flag<Double> {
        scalar(name, default: defaultValue, range: range, help: help)
    }

    /// Registers a finite double-precision number flag that is `nil` unless given.
    public mutating func optionalDouble(
        _ name: String, range: NumberRange<Double>? = nil, help: String
    ) -> Flag<Double?> {
        optionalScalar(name, range: range, help: help)
    }

    /// Registers a finite single-precision number flag, the element type of `Tensor`.
    public mutating func float(
        _ name: String, default defaultValue: Float, range: NumberRange<Float>? = nil, help: String
    ) -> Flag<Float> {
        scalar(name, default: defaultValue, range: range, help: help)
    }

    /// Registers a text flag such as `--start "The "`.
    public mutating func string(_ name: String, default defaultValue: String, help: String) -> Flag<String> {
        let defaultText = "\"\(defaultValue)\""
        return register(
            name, default: defaultValue, placeholder: "text", help: help,
            defaultText: defaultText, example: defaultText, rule: nil, expected: "text"
        ) { text, _ in text }
    }

    /// Registers a text flag that is `nil` unless given.
    public mutating func optionalString(_ name: String, help: String) -> Flag<String?> {
        optionalText(name, placeholder: "text", expected: "text", help: help, defaultText: nil)
    }

    /// Registers a file path flag such as `--svg out/loss.svg`; the parser does not check the path.
    public mutating func path(_ name: String, default defaultValue: String, help: String) -> Flag<String> {
        register(
            name, default: defaultValue, placeholder: "path", help: help,
            defaultText: defaultValue, example: defaultValue, rule: nil, expected: "a file path"
        ) { text, _ in text }
    }

    /// Registers a file path flag that is `nil` unless given.
    public mutating func optionalPath(_ name: String, help: String) -> Flag<String?> {
        optionalText(name, placeholder: "path", expected: "a file path", help: help, defaultText: nil)
    }

    /// Registers a text flag that is `nil` unless given, describing what nil means in `defaultText`.
    mutating func optionalText(
        _ name: String, placeholder: String, expected: String, help: String, defaultText: String?
    ) -> Flag<String?> {
        register(
            name, default: nil, placeholder: placeholder, help: help,
            defaultText: defaultText, example: nil, rule: nil, expected: expected
        ) { text, _ in text }
    }

    /// Registers a switch such as `--sample`, which `--no-sample` or `--sample=false` turns off.
    public mutating func bool(_ name: String, default defaultValue: Bool = false, help: String) -> Flag<Bool> {
        let flag = Flag(name: name, defaultValue: defaultValue)
        add(Definition(
            name: name,
            placeholder: nil,
            help: help,
            defaultText: defaultValue ? "on" : "off",
            example: nil,
            rule: nil,
            expected: "true or false",
            assign: { text, spelling in
                guard let value = Self.parseBool(text) else {
                    throw FlagError.invalidValue(
                        flag: spelling, value: text, expected: "true or false", defaultValue: nil)
                }
                flag.value = value
                flag.isSet = true
            },
            reset: { flag.value = flag.defaultValue; flag.isSet = false }
        ))
        return flag
    }

    /// Registers a comma-separated integer list flag such as `--compare-depths 2,4`.
    public mutating func intList(
        _ name: String, default defaultValue: [Int], range: NumberRange<Int>? = nil, help: String
    ) -> Flag<[Int]> {
        list(name, default: defaultValue, range: range, help: help)
    }

    /// Registers a comma-separated number list flag such as `--rates 0.1,0.01`.
    public mutating func doubleList(
        _ name: String, default defaultValue: [Double], range: NumberRange<Double>? = nil, help: String
    ) -> Flag<[Double]> {
        list(name, default: defaultValue, range: range, help: help)
    }

    /// Registers a comma-separated text list flag such as `--prompts "The ,A "`.
    public mutating func stringList(_ name: String, default defaultValue: [String], help: String) -> Flag<[String]> {
        list(name, default: defaultValue, range: nil, help: help)
    }

    /// Registers a flag that takes one of the raw values of `Choice`, such as `--optimizer adamw`.
    public mutating func choice<Choice: RawRepresentable & CaseIterable>(
        _ name: String, default defaultValue: Choice, help: String
    ) -> Flag<Choice> where Choice.RawValue == String {
        let names = Choice.allCases.map(\.rawValue)
        let expected = "one of " + names.joined(separator: ", ")
        return register(
            name, default: defaultValue, placeholder: names.joined(separator: "|"), help: help,
            defaultText: defaultValue.rawValue, example: defaultValue.rawValue, rule: nil, expected: expected
        ) { text, spelling in
            guard let value = Choice(rawValue: text) else {
                throw FlagError.invalidValue(
                    flag: spelling, value: text, expected: expected, defaultValue: defaultValue.rawValue)
            }
            return value
        }
    }

    // MARK: Parsing

    /// Parses the arguments after the program name and fills in the registered flags.
    ///
    /// Every flag is first reset to its default, so parsing twice does not mix command lines.
    /// - Throws: `HelpRequest` when the arguments contain `--help` or `-h`, and `FlagError`
    ///   for an unknown flag, a malformed, out-of-range or missing value, or a stray argument.
    public func parse<Arguments: Sequence>(_ arguments: Arguments) throws where Arguments.Element == String {
        let arguments = Array(arguments)
        for definition in definitions {
            definition.reset()
        }

        // Help wins over every other problem on the line, so a user can always reach it.
        if arguments.contains(where: { $0 == "--help" || $0 == "-h" }) {
            throw HelpRequest(usage: usage())
        }

        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1

            guard argument.hasPrefix("-"), argument.count > 1 else {
                throw FlagError.unexpectedArgument(argument)
            }
            guard argument.hasPrefix("--") else {
                throw FlagError.unknownFlag(argument, suggestion: suggestion(for: String(argument.dropFirst())))
            }

            let body = argument.dropFirst(2)
            let name: String
            let inlineValue: String?
            if let equals = body.firstIndex(of: "=") {
                name = String(body[..<equals])
                inlineValue = String(body[body.index(after: equals)...])
            } else {
                name = String(body)
                inlineValue = nil
            }
            let spelling = "--" + name

            if let definition = definitions.first(where: { $0.name == name }) {
                if definition.takesValue {
                    let value: String
                    if let inlineValue {
                        value = inlineValue
                    } else if index < arguments.count, !arguments[index].hasPrefix("--") {
                        value = arguments[index]
                        index += 1
                    } else {
                        throw FlagError.missingValue(
                            flag: spelling, expected: definition.expected, defaultValue: definition.example)
                    }
                    try definition.assign(value, spelling)
                } else {
                    try definition.assign(inlineValue ?? "true", spelling)
                }
                continue
            }

            if name.hasPrefix("no-"),
               let definition = definitions.first(where: { $0.name == name.dropFirst(3) && !$0.takesValue }) {
                if let inlineValue {
                    throw FlagError.invalidValue(
                        flag: spelling, value: inlineValue,
                        expected: "no value (write \(spelling) alone)", defaultValue: nil)
                }
                try definition.assign("false", spelling)
                continue
            }

            throw FlagError.unknownFlag(spelling, suggestion: suggestion(for: name))
        }
    }

    // MARK: Usage

    /// Returns the usage text: program name, summary, and one aligned line per flag with its
    /// type, help and default, wrapped to 80 columns.
    public func usage() -> String {
        let lineWidth = 80
        var lines = ["Usage: swift run \(program) [flags]", ""]
        lines += wrap(summary, width: lineWidth)
        lines += ["", "Flags:"]

        var rows: [(left: String, right: String)] = definitions.map { definition in
            var left = "--" + definition.name
            if let placeholder = definition.placeholder {
                left += " <\(placeholder)>"
            } else if definition.defaultText == "on" {
                left = "--[no-]" + definition.name
            }
            var notes: [String] = []
            if let defaultText = definition.defaultText { notes.append("default: \(defaultText)") }
            if let rule = definition.rule { notes.append(rule) }
            let right = notes.isEmpty ? definition.help : definition.help + " (" + notes.joined(separator: "; ") + ")"
            return (left, right)
        }
        rows.append(("-h, --help", "print this help and exit"))

        // Left columns longer than 30 characters put their help on the next line instead of
        // pushing every help text to the right.
        let leftWidth = min(rows.map { Terminal.displayWidth(of: $0.left) }.max() ?? 0, 30)
        let helpColumn = 2 + leftWidth + 2
        for row in rows {
            let helpLines = wrap(row.right, width: lineWidth - helpColumn)
            let indent = String(repeating: " ", count: helpColumn)
            if Terminal.displayWidth(of: row.left) <= leftWidth {
                let padded = Terminal.pad(row.left, toWidth: leftWidth, alignRight: false)
                lines.append("  " + padded + "  " + (helpLines.first ?? ""))
                lines += helpLines.dropFirst().map { indent + $0 }
            } else {
                lines.append("  " + row.left)
                lines += helpLines.map { indent + $0 }
            }
        }
        return lines.joined(separator: "\n")
    }

    // MARK: Internals

    /// One registered flag, with closures that write into its `Flag` object.
    private struct Definition {
        let name: String
        /// The value placeholder shown in the usage text, or nil for switches.
        let placeholder: String?
        let help: String
        let defaultText: String?
        /// The value that error messages show as an example, usually the default.
        let example: String?
        let rule: String?
        let expected: String
        /// Parses the value text and stores it; the second argument is the flag as spelled.
        let assign: (String, String) throws -> Void
        let reset: () -> Void

        var takesValue: Bool { placeholder != nil }
    }

    private mutating func add(_ definition: Definition) {
        let name = definition.name
        precondition(Self.isKebabCase(name), "flag name \"\(name)\" must be kebab-case: lowercase letters, digits and single hyphens, starting with a letter")
        precondition(name != "help" && name != "h", "flag name \"\(name)\" is reserved for the usage text")
        precondition(!definitions.contains { $0.name == name }, "flag --\(name) is registered twice")
        definitions.append(definition)
    }

    private mutating func register<Value>(
        _ name: String, default defaultValue: Value, placeholder: String, help: String,
        defaultText: String?, example: String?, rule: String?, expected: String,
        parse: @escaping (_ text: String, _ spelling: String) throws -> Value
    ) -> Flag<Value> {
        let flag = Flag(name: name, defaultValue: defaultValue)
        add(Definition(
            name: name,
            placeholder: placeholder,
            help: help,
            defaultText: defaultText,
            example: example,
            rule: rule,
            expected: expected,
            assign: { text, spelling in
                flag.value = try parse(text, spelling)
                flag.isSet = true
            },
            reset: { flag.value = flag.defaultValue; flag.isSet = false }
        ))
        return flag
    }

    private mutating func scalar<Value: FlagScalar>(
        _ name: String, default defaultValue: Value, range: NumberRange<Value>?, help: String
    ) -> Flag<Value> {
        if let range {
            precondition(range.contains(defaultValue), "default \(defaultValue) of --\(name) breaks its own rule: \(range.rule)")
        }
        let defaultText = describeFlagValue(defaultValue)
        return register(
            name, default: defaultValue, placeholder: Value.placeholder, help: help,
            defaultText: defaultText, example: defaultText, rule: range?.rule, expected: Value.expected
        ) { text, spelling in
            try Self.parseScalar(text, spelling: spelling, range: range, defaultText: defaultText)
        }
    }

    private mutating func optionalScalar<Value: FlagScalar>(
        _ name: String, range: NumberRange<Value>?, help: String
    ) -> Flag<Value?> {
        register(
            name, default: nil, placeholder: Value.placeholder, help: help,
            defaultText: nil, example: nil, rule: range?.rule, expected: Value.expected
        ) { text, spelling in
            try Self.parseScalar(text, spelling: spelling, range: range, defaultText: nil)
        }
    }

    private mutating func list<Value: FlagScalar>(
        _ name: String, default defaultValue: [Value], range: NumberRange<Value>?, help: String
    ) -> Flag<[Value]> {
        if let range, let bad = defaultValue.first(where: { !range.contains($0) }) {
            preconditionFailure("default element \(bad) of --\(name) breaks its own rule: \(range.rule)")
        }
        let defaultText = defaultValue.map(describeFlagValue).joined(separator: ",")
        let expected = "a comma-separated list of \(Value.pluralName), as in " + Value.listExample
        return register(
            name, default: defaultValue, placeholder: "\(Value.placeholder),…", help: help,
            defaultText: defaultText.isEmpty ? nil : defaultText,
            example: defaultText.isEmpty ? nil : defaultText,
            rule: range.map { "each \($0.rule)" }, expected: expected
        ) { text, spelling in
            // Spaces around numbers are dropped, but spaces in text items are part of the text.
            let isText = Value.self == String.self
            let items = text.split(separator: ",", omittingEmptySubsequences: false)
                .map { isText ? String($0) : $0.trimmingCharacters(in: .whitespaces) }
            var values: [Value] = []
            for item in items {
                guard !item.isEmpty || isText, let value = Value(flagText: item) else {
                    throw FlagError.invalidValue(
                        flag: spelling, value: text, expected: expected, defaultValue: nil)
                }
                if let range, !range.contains(value) {
                    throw FlagError.outOfRange(
                        flag: spelling, value: item, rule: range.rule, defaultValue: nil)
                }
                values.append(value)
            }
            return values
        }
    }

    private static func parseScalar<Value: FlagScalar>(
        _ text: String, spelling: String, range: NumberRange<Value>?, defaultText: String?
    ) throws -> Value {
        guard let value = Value(flagText: text) else {
            throw FlagError.invalidValue(flag: spelling, value: text, expected: Value.expected, defaultValue: defaultText)
        }
        if let range, !range.contains(value) {
            throw FlagError.outOfRange(flag: spelling, value: text, rule: range.rule, defaultValue: defaultText)
        }
        return value
    }

    private static func parseBool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: return nil
        }
    }

    private static func isKebabCase(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLowercase else { return false }
        guard !name.hasSuffix("-"), !name.contains("--") else { return false }
        return name.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }
    }

    /// Returns the known flag closest to `name` by edit distance, or nil when none is close.
    private func suggestion(for name: String) -> String? {
        var candidates = definitions.map(\.name)
        candidates += definitions.filter { !$0.takesValue }.map { "no-" + $0.name }
        candidates.append("help")

        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let distance = Self.editDistance(name, candidate)
            if best == nil || distance < best!.distance {
                best = (candidate, distance)
            }
        }
        guard let best else { return nil }

        // Two edits or a third of the name, whichever is larger, still looks like a typo. A name
        // that starts another, such as "block" for "block-size", is also close.
        let isTypo = best.distance <= max(2, name.count / 3)
        let prefixMatch = candidates.first { name.count >= 3 && ($0.hasPrefix(name) || name.hasPrefix($0)) }
        if isTypo { return "--" + best.name }
        return prefixMatch.map { "--" + $0 }
    }

    /// Returns the Levenshtein distance: the fewest insertions, deletions and substitutions
    /// of characters that turn `a` into `b`.
    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }

        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

/// Returns a flag value as the usage text and errors show it: numbers in their shortest exact
/// form, with a whole `Double` or `Float` written without ".0", as in "1" and "0.001".
func describeFlagValue<Value>(_ value: Value) -> String {
    let text = "\(value)"
    if value is Double || value is Float, text.hasSuffix(".0") {
        return String(text.dropLast(2))
    }
    return text
}

/// Splits `text` into lines of at most `width` characters at spaces; a longer word keeps its own line.
func wrap(_ text: String, width: Int) -> [String] {
    var lines: [String] = []
    var line = ""
    for word in text.split(separator: " ", omittingEmptySubsequences: true) {
        if line.isEmpty {
            line = String(word)
        } else if line.count + 1 + word.count <= width {
            line += " " + word
        } else {
            lines.append(line)
            line = String(word)
        }
    }
    if !line.isEmpty { lines.append(line) }
    return lines
}

/// A type a flag value or list element can have, with the words the usage text and errors use.
protocol FlagScalar: Comparable {
    init?(flagText: String)
    /// The placeholder in the usage text, as in `--steps <int>`.
    static var placeholder: String { get }
    /// The type in an error message, as in "expected an integer".
    static var expected: String { get }
    /// The type in plural, as in "a comma-separated list of integers".
    static var pluralName: String { get }
    static var listExample: String { get }
}

extension Int: FlagScalar {
    init?(flagText: String) { self.init(flagText) }
    static var placeholder: String { "int" }
    static var expected: String { "an integer" }
    static var pluralName: String { "integers" }
    static var listExample: String { "2,4" }
}

extension UInt64: FlagScalar {
    init?(flagText: String) { self.init(flagText) }
    static var placeholder: String { "int" }
    static var expected: String { "a whole number from 0 to \(UInt64.max)" }
    static var pluralName: String { "whole numbers" }
    static var listExample: String { "1,2" }
}

extension Double: FlagScalar {
    init?(flagText: String) {
        guard let value = Double(flagText), value.isFinite else { return nil }
        self = value
    }
    static var placeholder: String { "number" }
    static var expected: String { "a finite number" }
    static var pluralName: String { "numbers" }
    static var listExample: String { "0.1,0.01" }
}

extension Float: FlagScalar {
    init?(flagText: String) {
        guard let value = Float(flagText), value.isFinite else { return nil }
        self = value
    }
    static var placeholder: String { "number" }
    static var expected: String { "a finite number" }
    static var pluralName: String { "numbers" }
    static var listExample: String { "0.1,0.01" }
}

extension String: FlagScalar {
    init?(flagText: String) { self = flagText }
    static var placeholder: String { "text" }
    static var expected: String { "text" }
    static var pluralName: String { "texts" }
    static var listExample: String { "a,b" }
}
