import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import StepKit

/// Returns the elements named `name` below `element`, in document order, optionally only those
/// whose `class` attribute is `className`. SVG elements live in the SVG namespace, which plain
/// XPath names do not match, so the tree is walked by local name.
private func descendants(of element: XMLElement?, named name: String, className: String? = nil) -> [XMLElement] {
    var found: [XMLElement] = []
    for child in element?.children ?? [] {
        guard let child = child as? XMLElement else { continue }
        if child.localName == name && (className == nil || attribute("class", of: child) == className) {
            found.append(child)
        }
        found += descendants(of: child, named: name, className: className)
    }
    return found
}

/// Returns the value of attribute `name` of `element`. It searches `attributes` because
/// `attribute(forName:)` of swift-corelibs-foundation returns nil inside a default namespace.
private func attribute(_ name: String, of element: XMLElement) -> String? {
    element.attributes?.first { $0.name == name }?.stringValue
}

/// Returns the values of attribute `name` of `elements`, skipping elements without it.
private func attributeValues(_ elements: [XMLElement], _ name: String) -> [String] {
    elements.compactMap { attribute(name, of: $0) }
}

/// Returns the text content of every `<text>` element of a document.
private func allTexts(_ document: XMLDocument) -> [String] {
    descendants(of: document.rootElement(), named: "text").compactMap(\.stringValue)
}

/// Creates an empty folder for one test under the system temporary folder.
func makeTemporaryFolder() throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stepkit-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

@Suite("SVG plots")
struct SVGPlotTests {
    @Test("line plot is well-formed XML with every series")
    func linePlotStructure() throws {
        var plot = LinePlot(title: "Training & validation", xLabel: "step", yLabel: "loss")
        plot.addSeries("train loss", x: [0, 10, 20, 30], y: [4.2, 3.0, 2.5, 2.3])
        plot.addSeries("validation <held-out>", x: [0.0, 30.0], y: [Float(4.1), 2.6])
        plot.rightYLabel = "learning rate"
        plot.addSeries("learning rate", y: [0.001, 0.0005, 0.0001, 0.00005], axis: .right)

        let document = try XMLDocument(xmlString: plot.svg(), options: [])
        #expect(document.rootElement()?.name == "svg")
        let root = document.rootElement()
        let groups = descendants(of: root, named: "g", className: "series")
        let names = attributeValues(groups, "data-name")
        #expect(names == ["train loss", "validation <held-out>", "learning rate"])

        let legend = descendants(of: root, named: "g", className: "legend")
        let legendTexts = descendants(of: legend.first, named: "text").compactMap(\.stringValue)
        #expect(legendTexts == ["train loss", "validation <held-out>", "learning rate (right axis)"])

        let seriesPaths = groups.flatMap { descendants(of: $0, named: "path") }
        let paths = attributeValues(seriesPaths, "d")
        try #require(paths.count == 3)
        #expect(paths.allSatisfy { $0.hasPrefix("M") })
        // The train series has four points, so its path has one move and three line commands.
        #expect(paths[0].filter { $0 == "L" }.count == 3)

        let dashed = attributeValues(seriesPaths, "stroke-dasharray")
        #expect(dashed == ["6 4"])

        let allText = allTexts(document)
        #expect(allText.contains("Training & validation"))
        #expect(allText.contains("learning rate"))
        #expect(allText.contains("step"))
    }

    @Test("log scale skips values that are not positive")
    func logScaleGaps() throws {
        var plot = LinePlot(title: "t", xLabel: "x", yLabel: "y")
        plot.logScaleY = true
        plot.addSeries("s", y: [1.0, 0, 0.1, 0.01])

        let document = try XMLDocument(xmlString: plot.svg(), options: [])
        // The 0 splits the series: a lone point drawn as a dot, then a two-point path.
        let groups = descendants(of: document.rootElement(), named: "g", className: "series")
        #expect(groups.flatMap { descendants(of: $0, named: "circle") }.count == 1)
        let paths = attributeValues(groups.flatMap { descendants(of: $0, named: "path") }, "d")
        #expect(paths.count == 1)
        #expect(paths.first?.filter { $0 == "L" }.count == 1)
        let allText = allTexts(document)
        #expect(allText.contains("y (log scale)"))
        // The drawn values span 0.01...1, two decades, so ticks sit at 1, 2 and 5 times each power.
        let tickLabels = allText.filter { $0.first?.isNumber == true }
        #expect(tickLabels.suffix(7) == ["0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "1"])
    }

    @Test("linear ticks are round numbers")
    func linearTicks() {
        let unit = SVG.linearTicks(low: 0, high: 1)
        #expect(unit.low == 0)
        #expect(unit.high == 1)
        #expect(unit.ticks.count == 6)
        #expect(abs(unit.ticks[3] - 0.6) < 1e-12)

        // A raw step of 97 / 5 = 19.4 rounds up to 20.
        let steps = SVG.linearTicks(low: 0, high: 97)
        #expect(steps.ticks == [0, 20, 40, 60, 80, 100])

        let flat = SVG.linearTicks(low: 2, high: 2)
        #expect(flat.low <= 1.8)
        #expect(flat.high >= 2.2)
    }

    @Test("log ticks cover whole decades")
    func logTicks() {
        let wide = SVG.logTicks(low: 0.05, high: 3)
        #expect(wide.low == 0.01)
        #expect(wide.high == 10)
        #expect(wide.ticks == [0.01, 0.1, 1, 10])

        let narrow = SVG.logTicks(low: 0.2, high: 0.9)
        #expect(narrow.ticks == [0.1, 0.2, 0.5, 1])
    }

    @Test("tick labels use the decimals of the step")
    func tickLabels() {
        #expect(SVG.tickLabel(0.6000000000000001, step: 0.2) == "0.6")
        #expect(SVG.tickLabel(1500, step: 500) == "1500")
        #expect(SVG.tickLabel(0.25, step: 0.05) == "0.25")
        #expect(SVG.tickLabel(2_000_000, step: 1_000_000) == "2e+06")
    }

    @Test("escaping removes markup and forbidden characters")
    func escaping() {
        #expect(SVG.escape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;")
        #expect(SVG.escape("x\u{1}y") == "x\u{FFFD}y")
        #expect(SVG.escape("é🌊\n") == "é🌊\n")
    }

    @Test("heatmap is well-formed XML with one cell per value")
    func heatmapStructure() throws {
        var heatmap = Heatmap([[0.1, 0.9, -.infinity], [0.5, 0.5, 0.0]], rowLabels: ["T", "h"], columnLabels: ["T", "h", "e"])
        heatmap.title = "attention <head 0>"
        heatmap.showsValues = true
        heatmap.extraColumn = Heatmap.ExtraColumn(header: "sum", values: [1.0, 1.0])

        let document = try XMLDocument(xmlString: heatmap.svg(), options: [])
        #expect(document.rootElement()?.name == "svg")
        let root = document.rootElement()
        let cells = descendants(of: descendants(of: root, named: "g", className: "cells").first, named: "rect")
        #expect(cells.count == 6)
        #expect(descendants(of: root, named: "rect", className: "scale").count == 1)
        #expect(descendants(of: root, named: "stop").count == 11)

        let allText = allTexts(document)
        #expect(allText.contains("attention <head 0>"))
        #expect(allText.contains("sum"))
        #expect(allText.contains("0.90"))
        #expect(allText.contains("-∞"))
        #expect(allText.filter { $0 == "1.00" }.count == 2)

        // The finite values span 0...0.9 on the sequential scale, so 0 gets its first colour
        // (68, 1, 84), 0.9 its last (253, 231, 37), and the -inf cell is white.
        let fills = attributeValues(cells, "fill")
        try #require(fills.count == 6)
        #expect(fills[5] == "#440154")
        #expect(fills[1] == "#fde725")
        #expect(fills[2] == "#ffffff")
    }

    @Test("atomic write leaves only the target file")
    func atomicWrite() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("loss.svg").path

        var plot = LinePlot(title: "t", xLabel: "x", yLabel: "y")
        plot.addSeries("s", y: [1.0, 2])
        try plot.write(toPath: path)
        try writeAtomically("second version", toPath: path)

        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["loss.svg"])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "second version")
    }

    @Test("writing into a missing folder names it")
    func missingFolder() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = folder.appendingPathComponent("plots").path
        let path = missing + "/loss.svg"

        let error = try #require(throws: StepError.self) { try writeAtomically("x", toPath: path) }
        #expect(error.message == "cannot write \(path): the folder \(missing) does not exist. Create it with `mkdir -p \(missing)` or choose another path.")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test("writing onto a folder is rejected")
    func folderAsTarget() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let error = try #require(throws: StepError.self) { try writeAtomically("x", toPath: folder.path) }
        #expect(error.message.contains("it is a folder"))
    }
}
