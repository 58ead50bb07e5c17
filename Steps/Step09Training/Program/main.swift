import Foundation
import StepKit
import Tensor
import TrainingStep

runStepProgram {
    var flags = FlagParser(program: "Step09Training", summary: "Trains a GPT.")
    let standard = flags.standardFlags(seed: 1337)
    let preset = flags.string("preset", default: "default", help: "preset")
    let steps = flags.optionalInt("max-steps", help: "steps")
    try flags.parse(CommandLine.arguments.dropFirst())
    let corpus = try standard.loadCorpus()
    var config = try TrainingConfig.preset(named: preset.value)
    if let s = steps.value { config.maxSteps = s }
    let trainer = try Trainer(config: config, text: corpus.text)
    print("params", trainer.model.parameterCount, trainer.config.model.parameterCount)
    let start = Date()
    var last = Date()
    while !trainer.isFinished {
        let r = try trainer.trainStep()
        if r.step % 50 == 0 || r.step == 1 {
            let now = Date()
            print(r.step, r.loss, r.gradNorm, r.learningRate, String(format: "%.1f ms/step", now.timeIntervalSince(last) * 1000 / 50))
            last = now
        }
        if r.step % config.evalInterval == 0 { let e = try trainer.evaluate(); print("eval", e.trainLoss, e.validationLoss) }
    }
    print("total", Date().timeIntervalSince(start))
}
