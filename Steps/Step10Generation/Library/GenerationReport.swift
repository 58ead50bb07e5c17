import Foundation
import StepKit
import TokenizerStep

// Text of the step 10 program. Nothing here prints: each function returns what the program prints.

/// Returns one line per temperature with the `top` most likely next tokens and their
/// probabilities, and the distribution's entropy, as in
/// `temperature 0.5   e 0.84  a 0.07  o 0.04  i 0.02  u 0.01   entropy 0.62 nats`.
/// - Throws: `GenerationError.nonFiniteLogits` for a NaN or infinite logit.
public func distributionSummary(
    logits: [Float], tokenizer: CharTokenizer, temperatures: [Float] = [0.5, 1, 2], top: Int = 5
) throws -> String {
    var lines: [String] = []
    for temperature in temperatures {
        let probabilities = try nextTokenProbabilities(logits: logits, settings: SamplingSettings(temperature: temperature))
        let tokens = topTokens(probabilities, count: top).map {
            tokenizer.label(for: $0.id) + " " + Format.fixed($0.probability, digits: 2)
        }
        // Spelled out, so the label cannot be read as a token such as "T".
        let label = "temperature " + Format.significant(temperature)
        lines.append(label.padding(toLength: 16, withPad: " ", startingAt: 0) + "  " + tokens.joined(separator: "  ")
            + "   entropy " + Format.fixed(entropy(probabilities), digits: 2) + " nats")
    }
    return lines.joined(separator: "\n")
}

/// Returns, for each temperature, a bar chart of the `top` most likely next tokens, the
/// probability left for all other tokens, and the entropy.
/// - Throws: `GenerationError.nonFiniteLogits` for a NaN or infinite logit.
public func distributionChart(
    logits: [Float], tokenizer: CharTokenizer, temperatures: [Float] = [0.5, 1, 2], top: Int = 5, barWidth: Int = 40
) throws -> String {
    var lines: [String] = []
    for temperature in temperatures {
        let probabilities = try nextTokenProbabilities(logits: logits, settings: SamplingSettings(temperature: temperature))
        let tokens = topTokens(probabilities, count: top)
        lines.append("temperature " + Format.significant(temperature) + " (entropy "
            + Format.fixed(entropy(probabilities), digits: 2) + " nats)")
        for token in tokens {
            let label = tokenizer.label(for: token.id)
            lines.append(barLine(label: label, probability: token.probability, barWidth: barWidth))
        }
        let rest = max(0, 1 - tokens.reduce(Float(0)) { $0 + $1.probability })
        lines.append(barLine(label: "other", probability: rest, barWidth: barWidth))
        lines.append("")
    }
    lines.removeLast()
    return lines.joined(separator: "\n")
}

/// Returns one row of a bar chart: the label, the probability and its bar.
func barLine(label: String, probability: Float, barWidth: Int) -> String {
    let line = "  " + label.padding(toLength: 6, withPad: " ", startingAt: 0) + Format.fixed(probability, digits: 3)
    let drawn = bar(probability, width: barWidth)
    return drawn.isEmpty ? line : line + " " + drawn
}

/// Returns a bar of `fraction · width` columns in eighths of a column.
func bar(_ fraction: Float, width: Int) -> String {
    let partials: [Character] = ["▏", "▎", "▍", "▌", "▋", "▊", "▉"]
    let eighths = Int((min(max(Double(fraction), 0), 1) * Double(width * 8)).rounded())
    var text = String(repeating: "█", count: eighths / 8)
    if eighths % 8 > 0 { text.append(partials[eighths % 8 - 1]) }
    return text
}
