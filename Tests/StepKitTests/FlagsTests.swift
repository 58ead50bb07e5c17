import Testing
@testable import StepKit

/// The choices of a test `--optimizer` flag.
private enum Optimizer: String, CaseIterable {
    case sgd
    case adamw
}

/// A parser with one flag of each kind, registered the way a step program does it.
private struct SampleFlags {
    var parser = FlagParser(program: "Step99Sample", summary: "Trains a sample model on a corpus and prints what it learned.")
    let steps: Flag<Int>
    let offset: Flag<Int>
    let learningRate: Flag<Double>
    let temperature: Flag<Float>
    let start: Flag<String>
    let prompt: Flag<String?>
    let sample: Flag<Bool>
    let shuffle: Flag<Bool>
    let depths: Flag<[Int]>
    let optimizer: Flag<Optimizer>

    init() {
        steps = parser.int("steps", default: 300, range: .atLeast(1), help: "gradient-descent steps")
        offset = parser.int("offset", default: 0, help: "offset in characters")
        learningRate = parser.double("lr", default: 0.001, range: .above(0), help: "learning rate per step")
        temperature = parser.float("temperature", default: 1, range: .atLeast(0), help: "sampling temperature, 0 for the most likely token")
        start = parser.string("start", default: "The ", help: "text the generation starts from")
        prompt = parser.optionalString("prompt", help: "extra prompt text")
        sample = parser.bool("sample", help: "draw the next character instead of taking the most likely")
        shuffle = parser.bool("shuffle", default: true, help: "shuffle the batches each epoch")
        depths = parser.intList("compare-depths", default: [2, 4], range: .atLeast(1), help: "MLP depths to compare, in hidden layers")
        optimizer = parser.choice("optimizer", default: Optimizer.adamw, help: "update rule")
    }

    func parse(_ arguments: [String]) throws {
        try parser.parse(arguments)
    }
}

/// Returns the `FlagError` that parsing `arguments` throws, or nil when it throws none.
private func flagError(_ arguments: [String]) -> FlagError? {
    let flags = SampleFlags()
    do {
        try flags.parse(arguments)
        return nil
    } catch let error as FlagError {
        return error
    } catch {
        Issue.record("expected a FlagError, got \(error)")
        return nil
    }
}

@Suite("FlagParser")
struct FlagsTests {
    @Test("defaults without arguments")
    func defaults() throws {
        let flags = SampleFlags()
        try flags.parse([])
        #expect(flags.steps.value == 300)
        #expect(flags.offset.value == 0)
        #expect(flags.learningRate.value == 0.001)
        #expect(flags.temperature.value == 1)
        #expect(flags.start.value == "The ")
        #expect(flags.prompt.value == nil)
        #expect(flags.sample.value == false)
        #expect(flags.shuffle.value == true)
        #expect(flags.depths.value == [2, 4])
        #expect(flags.optimizer.value == .adamw)
        #expect(flags.steps.isSet == false)
    }

    @Test("typed values in separate form")
    func separateForm() throws {
        let flags = SampleFlags()
        try flags.parse([
            "--steps", "50", "--offset", "-3", "--lr", "1e-2", "--temperature", "0.5",
            "--start", "Once", "--prompt", "a b", "--sample", "--compare-depths", "1, 3,8",
            "--optimizer", "sgd",
        ])
        #expect(flags.steps.value == 50)
        #expect(flags.steps.isSet)
        #expect(flags.offset.value == -3)
        #expect(flags.learningRate.value == 0.01)
        #expect(flags.temperature.value == 0.5)
        #expect(flags.start.value == "Once")
        #expect(flags.prompt.value == "a b")
        #expect(flags.sample.value == true)
        #expect(flags.depths.value == [1, 3, 8])
        #expect(flags.optimizer.value == .sgd)
    }

    @Test("equals form, including values with '='")
    func equalsForm() throws {
        let flags = SampleFlags()
        try flags.parse(["--steps=8", "--start=a=b", "--prompt=", "--sample=true", "--shuffle=false"])
        #expect(flags.steps.value == 8)
        #expect(flags.start.value == "a=b")
        #expect(flags.prompt.value == "")
        #expect(flags.sample.value == true)
        #expect(flags.shuffle.value == false)
    }

    @Test("no- prefix turns a switch off")
    func negatedSwitch() throws {
        let flags = SampleFlags()
        try flags.parse(["--no-shuffle"])
        #expect(flags.shuffle.value == false)
        #expect(flags.shuffle.isSet)
    }

    @Test("last repeated flag wins")
    func repeatedFlag() throws {
        let flags = SampleFlags()
        try flags.parse(["--steps", "10", "--steps", "20"])
        #expect(flags.steps.value == 20)
    }

    @Test("parsing again resets to defaults")
    func reparseResets() throws {
        let flags = SampleFlags()
        try flags.parse(["--steps", "10", "--sample"])
        try flags.parse([])
        #expect(flags.steps.value == 300)
        #expect(flags.steps.isSet == false)
        #expect(flags.sample.value == false)
    }

    @Test("unknown flag suggests the closest")
    func unknownFlagSuggestion() {
        #expect(flagError(["--stpes", "3"]) == .unknownFlag("--stpes", suggestion: "--steps"))
        #expect(flagError(["--compare-depth", "3"]) == .unknownFlag("--compare-depth", suggestion: "--compare-depths"))
        #expect(flagError(["--compare"]) == .unknownFlag("--compare", suggestion: "--compare-depths"))
        #expect(flagError(["--no-sampel"]) == .unknownFlag("--no-sampel", suggestion: "--no-sample"))
        #expect(flagError(["-steps", "3"]) == .unknownFlag("-steps", suggestion: "--steps"))
    }

    @Test("unknown flag far from all names")
    func unknownFlagWithoutSuggestion() throws {
        let error = try #require(flagError(["--xylophone-quartet"]))
        #expect(error == .unknownFlag("--xylophone-quartet", suggestion: nil))
        #expect(error.description == "unknown flag --xylophone-quartet. Run with --help to list the flags.")
    }

    @Test("unknown flag message names both flags")
    func unknownFlagMessage() throws {
        let error = try #require(flagError(["--stpes", "3"]))
        #expect(error.description == "unknown flag --stpes. Did you mean --steps? Run with --help to list the flags.")
    }

    @Test("malformed values name flag, value and type")
    func malformedValues() throws {
        let integer = try #require(flagError(["--steps", "abc"]))
        #expect(integer == .invalidValue(flag: "--steps", value: "abc", expected: "an integer", defaultValue: "300"))
        #expect(integer.description == "invalid value \"abc\" for --steps: expected an integer, such as the default --steps 300.")

        let fraction = try #require(flagError(["--steps=2.5"]))
        #expect(fraction == .invalidValue(flag: "--steps", value: "2.5", expected: "an integer", defaultValue: "300"))

        let notANumber = try #require(flagError(["--lr", "nan"]))
        #expect(notANumber == .invalidValue(flag: "--lr", value: "nan", expected: "a finite number", defaultValue: "0.001"))
        #expect(notANumber.description == "invalid value \"nan\" for --lr: expected a finite number, such as the default --lr 0.001.")

        let switchValue = try #require(flagError(["--sample=maybe"]))
        #expect(switchValue == .invalidValue(flag: "--sample", value: "maybe", expected: "true or false", defaultValue: nil))

        let negatedValue = try #require(flagError(["--no-sample=true"]))
        #expect(negatedValue == .invalidValue(flag: "--no-sample", value: "true", expected: "no value (write --no-sample alone)", defaultValue: nil))

        let choice = try #require(flagError(["--optimizer", "adam"]))
        #expect(choice == .invalidValue(flag: "--optimizer", value: "adam", expected: "one of sgd, adamw", defaultValue: "adamw"))
    }

    @Test("malformed list names the whole value")
    func malformedList() throws {
        let error = try #require(flagError(["--compare-depths", "2,x"]))
        #expect(error == .invalidValue(
            flag: "--compare-depths", value: "2,x",
            expected: "a comma-separated list of integers, as in 2,4", defaultValue: nil))

        let empty = try #require(flagError(["--compare-depths", "2,,4"]))
        #expect(empty == .invalidValue(
            flag: "--compare-depths", value: "2,,4",
            expected: "a comma-separated list of integers, as in 2,4", defaultValue: nil))
    }

    @Test("values outside the range")
    func outOfRange() throws {
        let steps = try #require(flagError(["--steps", "0"]))
        #expect(steps == .outOfRange(flag: "--steps", value: "0", rule: "at least 1", defaultValue: "300"))
        #expect(steps.description == "invalid value 0 for --steps: the value must be at least 1, such as the default --steps 300.")

        let rate = try #require(flagError(["--lr", "0"]))
        #expect(rate == .outOfRange(flag: "--lr", value: "0", rule: "greater than 0", defaultValue: "0.001"))

        let depth = try #require(flagError(["--compare-depths", "2,0"]))
        #expect(depth == .outOfRange(flag: "--compare-depths", value: "0", rule: "at least 1", defaultValue: nil))
    }

    @Test("missing values")
    func missingValues() throws {
        let atEnd = try #require(flagError(["--steps"]))
        #expect(atEnd == .missingValue(flag: "--steps", expected: "an integer", defaultValue: "300"))
        #expect(atEnd.description.contains("--steps VALUE or --steps=VALUE"))

        let beforeFlag = try #require(flagError(["--start", "--sample"]))
        #expect(beforeFlag == .missingValue(flag: "--start", expected: "text", defaultValue: "\"The \""))

        let optional = try #require(flagError(["--prompt"]))
        #expect(optional == .missingValue(flag: "--prompt", expected: "text", defaultValue: nil))
    }

    @Test("stray argument")
    func strayArgument() throws {
        let error = try #require(flagError(["--steps", "5", "extra"]))
        #expect(error == .unexpectedArgument("extra"))
    }

    @Test("help request carries the usage")
    func helpRequest() throws {
        for spelling in ["--help", "-h"] {
            let flags = SampleFlags()
            // Help wins even over an unknown flag earlier on the line.
            let request = try #require(throws: HelpRequest.self) { try flags.parse(["--stpes", spelling]) }
            #expect(request.usage == flags.parser.usage())
        }
    }

    @Test("usage lists every flag with type, default and help")
    func usageContents() {
        let usage = SampleFlags().parser.usage()
        #expect(usage.hasPrefix("Usage: swift run Step99Sample [flags]\n\nTrains a sample model on a corpus"))
        let expectedLines = [
            "--steps <int>", "gradient-descent steps (default: 300; at least 1)",
            "--offset <int>", "offset in characters (default: 0)",
            "--lr <number>", "learning rate per step (default: 0.001; greater than",
            "--temperature <number>", "(default: 1; at least 0)",
            "--start <text>", "text the generation starts from (default: \"The \")",
            "--prompt <text>", "extra prompt text",
            "--sample", "(default: off)",
            "--[no-]shuffle", "shuffle the batches each epoch (default: on)",
            "--compare-depths <int,…>", "2,4; each at least 1)",
            "--optimizer <sgd|adamw>", "update rule (default: adamw)",
            "-h, --help", "print this help and exit",
        ]
        for text in expectedLines {
            #expect(usage.contains(text), "usage lacks \(text)")
        }
    }

    @Test("usage help texts start in one column")
    func usageAlignment() throws {
        let usage = SampleFlags().parser.usage()
        let lines = usage.split(separator: "\n").map(String.init)
        let helpTexts = ["gradient-descent steps", "offset in characters", "extra prompt text", "update rule", "print this help"]
        var columns: [Int] = []
        for help in helpTexts {
            let line = try #require(lines.first { $0.contains(help) })
            let range = try #require(line.range(of: help))
            columns.append(line.distance(from: line.startIndex, to: range.lowerBound))
        }
        // The left column is 24 characters wide, the length of "--compare-depths <int,…>".
        #expect(columns == Array(repeating: 2 + 24 + 2, count: helpTexts.count))
        for line in lines {
            #expect(line.count <= 80, "usage line longer than 80 columns: \(line)")
        }
    }

    @Test("standard flags load the chosen corpus")
    func standardFlags() throws {
        var parser = FlagParser(program: "Step99Sample", summary: "Summary.")
        let standard = parser.standardFlags(seed: 7)
        try parser.parse([])
        #expect(standard.seed.value == 7)
        #expect(try standard.loadCorpus().source == .embedded)

        try parser.parse(["--seed", "18446744073709551615", "--text", "hello"])
        #expect(standard.seed.value == UInt64.max)
        #expect(try standard.loadCorpus() == Corpus(text: "hello", source: .literal))

        try parser.parse(["--text", "a", "--text-file", "b.txt"])
        #expect(throws: StepError.self) { try standard.loadCorpus() }

        let usage = parser.usage()
        #expect(usage.contains("--seed <int>"))
        #expect(usage.contains("--text <text>"))
        #expect(usage.contains("--text-file <path>"))
        #expect(usage.contains("(default: the embedded default corpus)"))
    }

    @Test("negative seed is rejected")
    func negativeSeed() throws {
        var parser = FlagParser(program: "Step99Sample", summary: "Summary.")
        _ = parser.standardFlags()
        #expect(throws: FlagError.invalidValue(
            flag: "--seed", value: "-1",
            expected: "a whole number from 0 to 18446744073709551615", defaultValue: "42")) {
            try parser.parse(["--seed", "-1"])
        }
    }

    @Test("number range rules in words")
    func numberRangeRules() {
        #expect(NumberRange.atLeast(1).rule == "at least 1")
        #expect(NumberRange.above(0.5).rule == "greater than 0.5")
        #expect(NumberRange.atMost(8).rule == "at most 8")
        #expect(NumberRange.between(1, 4).rule == "from 1 to 4")
        #expect(NumberRange.atLeast(0.0, below: 1.0).rule == "at least 0 and less than 1")
        #expect(NumberRange.above(0.0).rule == "greater than 0")

        #expect(NumberRange.atLeast(0.0, below: 1.0).contains(0))
        #expect(!NumberRange.atLeast(0.0, below: 1.0).contains(1))
        #expect(!NumberRange.above(0).contains(0))
        #expect(NumberRange.between(1, 4).contains(4))
        #expect(!NumberRange.between(1, 4).contains(5))
    }
}
