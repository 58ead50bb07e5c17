import Testing
@testable import StepKit

@Suite("Heatmap")
struct HeatmapTests {
    @Test("shades fallback, hand-worked")
    func shades() {
        // Scale 0...3 in five parts of 0.6: 0 -> " ", 1 -> "░", 2 -> "▓", 3 -> "█".
        let heatmap = Heatmap([[0.0, 1], [2, 3]], rowLabels: ["a", "b"], columnLabels: ["x", "y"])
        let expected = [
            "   x  y",
            "a    ░░",
            "b ▓▓ ██",
            "shades: \" \" from 0, \"░\" from 0.6, \"▒\" from 1.2, \"▓\" from 1.8, \"█\" from 2.4 to 3",
        ].joined(separator: "\n")
        #expect(heatmap.render(style: .shades) == expected)
    }

    @Test("numbers with an extra column")
    func numbersWithExtraColumn() {
        var heatmap = Heatmap([[0.5, -0.25]], rowLabels: ["r"], columnLabels: ["p", "q"])
        heatmap.extraColumn = Heatmap.ExtraColumn(header: "sum", values: [0.25])
        let expected = [
            "      p     q │  sum",
            "r  0.50 -0.25 │ 0.25",
            "values from -0.25 to 0.5",
        ].joined(separator: "\n")
        #expect(heatmap.render(style: .numbers) == expected)
    }

    @Test("flat row-major input")
    func flatInput() {
        let flat = Heatmap(values: [Float(1), 2, 3, 4, 5, 6], rows: 2, columns: 3, rowLabels: ["r0", "r1"], columnLabels: ["a", "b", "c"])
        #expect(flat.values == [[1, 2, 3], [4, 5, 6]])
    }

    @Test("diverging scale is symmetric around zero")
    func divergingShades() {
        // Mixed signs choose the diverging scale -2...2, so 0 sits in the middle shade "▒".
        let heatmap = Heatmap([[-2.0, 0, 1]], rowLabels: ["r"], columnLabels: ["a", "b", "c"])
        let lines = heatmap.render(style: .shades).split(separator: "\n").map(String.init)
        #expect(lines[1] == "r    ▒▒ ▓▓")
        #expect(lines[2] == "shades: \" \" from -2, \"░\" from -1.2, \"▒\" from -0.4, \"▓\" from 0.4, \"█\" from 1.2 to 2")
    }

    @Test("masked cells and their legend")
    func nonFiniteCells() {
        let heatmap = Heatmap([[0.0, -.infinity], [1, 2]], rowLabels: ["a", "b"], columnLabels: ["x", "y"])
        let lines = heatmap.render(style: .shades).split(separator: "\n").map(String.init)
        #expect(lines[1] == "a    -∞")
        #expect(lines[3].hasSuffix("; -∞ is -inf"))
        // The -inf cell stays out of the scale, whose top is the largest finite value.
        #expect(lines[3].contains("to 2;"))
    }

    @Test("colour cells use 256-colour backgrounds")
    func colorCells() {
        var heatmap = Heatmap([[-1.0, 1]], rowLabels: ["r"], columnLabels: ["a", "b"])
        heatmap.showsValues = true
        let text = heatmap.render(style: .color)
        #expect(text.contains("\u{1B}[48;5;"))
        #expect(text.contains("-1.00"))
        #expect(text.contains("(white is 0)"))
    }

    @Test("control characters in labels are escaped")
    func controlCharacterLabels() {
        let heatmap = Heatmap([[1.0]], rowLabels: ["\n"], columnLabels: ["\t"])
        let lines = heatmap.render(style: .numbers).split(separator: "\n").map(String.init)
        #expect(lines[0] == "     \\t")
        #expect(lines[1] == "\\n 1.00")
    }

    @Test("plain style without a colour terminal")
    func automaticStyle() {
        var heatmap = Heatmap([[1.0]], rowLabels: ["r"], columnLabels: ["c"])
        if !Terminal.standardOutputSupportsColor {
            #expect(heatmap.automaticStyle == .shades)
            heatmap.showsValues = true
            #expect(heatmap.automaticStyle == .numbers)
        } else {
            #expect(heatmap.automaticStyle == .color)
        }
    }

    @Test("xterm colour indices")
    func xtermIndices() {
        #expect(RGBColor(red: 0, green: 0, blue: 0).xterm256Index == 16)
        #expect(RGBColor(red: 255, green: 0, blue: 0).xterm256Index == 196)
        #expect(RGBColor(red: 255, green: 255, blue: 255).xterm256Index == 231)
        // Grey 128 is nearer the ramp entry 128 (232 + 12) than the cube grey 135.
        #expect(RGBColor(red: 128, green: 128, blue: 128).xterm256Index == 244)
        #expect(RGBColor(red: 255, green: 0, blue: 170).hex == "#ff00aa")
    }
}
