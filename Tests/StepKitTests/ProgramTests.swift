import Foundation
import Testing
@testable import StepKit

/// An error type without a description of its own.
private enum PlainError: Error {
    case broken(code: Int)
}

@Suite("Program")
struct ProgramTests {
    @Test("CPU message names the portable build")
    func cpuMessage() {
        let message = missingCPUFeaturesMessage(program: "Step04MLP")
        #expect(message.hasPrefix("error: this build of TransformerSteps needs a CPU with AVX2 and FMA"))
        #expect(message.contains("    TRANSFORMER_STEPS_PORTABLE=1 swift build\n"))
        #expect(message.hasSuffix("    TRANSFORMER_STEPS_PORTABLE=1 swift run Step04MLP"))
    }

    @Test("thread setting accepts 1 to 64 or unset", arguments: [nil, "", "1", "2", "64"] as [String?])
    func validThreadSetting(value: String?) {
        #expect(threadSettingProblem(value) == nil)
    }

    @Test("thread setting rejects other values", arguments: ["0", "65", "-2", "two", "2.5", " 2"])
    func invalidThreadSetting(value: String) throws {
        let problem = try #require(threadSettingProblem(value))
        #expect(problem.hasPrefix("TRANSFORMER_STEPS_THREADS is \"\(value)\", but it must be a whole number from 1 to 64"))
        #expect(problem.hasSuffix("unset TRANSFORMER_STEPS_THREADS"))
    }

    @Test("error messages")
    func errorMessages() {
        #expect(errorMessage(for: StepError("bad value")) == "bad value")
        #expect(errorMessage(for: FlagError.unexpectedArgument("x")) == FlagError.unexpectedArgument("x").description)
        #expect(errorMessage(for: PlainError.broken(code: 3)) == "broken(code: 3)")
    }

    @Test("invalid-value message from parts")
    func invalidValueMessage() {
        let error = StepError(invalid: "--heads", value: "5", rule: "5 does not divide --embed-dim 32", fix: "Pass a divisor of 32, such as 4 or 8.")
        #expect(error.message == "invalid --heads 5: 5 does not divide --embed-dim 32. Pass a divisor of 32, such as 4 or 8.")
        #expect(error.description == error.message)
        #expect(error.localizedDescription == error.message)
    }
}
