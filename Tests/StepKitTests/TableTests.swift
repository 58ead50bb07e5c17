import Testing
@testable import StepKit

@Suite("Table")
struct TableTests {
    @Test("numbers right, text left")
    func automaticAlignment() {
        var table = Table(columns: ["name", "count", "loss"])
        table.addRow(["a", "1", "2.50"])
        table.addRow(["bigram", "1,234", "10.00"])
        let expected = [
            "name   │ count │  loss",
            "──────" + "─┼─" + "─────" + "─┼─" + "─────",
            "a      │     1 │  2.50",
            "bigram │ 1,234 │ 10.00",
        ].joined(separator: "\n")
        #expect(table.render() == expected)
        #expect(table.description == expected)
    }

    @Test("widths count terminal columns")
    func wideCharacters() {
        var table = Table(columns: ["word", "n"])
        table.addRow(["café", "1"])
        table.addRow(["🌊", "22"])
        let expected = [
            "word │  n",
            "─────┼───",
            "café │  1",
            "🌊   │ 22",
        ].joined(separator: "\n")
        #expect(table.render() == expected)
    }

    @Test("explicit alignment and separator")
    func explicitAlignmentAndSeparator() {
        var table = Table(columns: [Table.Column("id", alignment: .left), Table.Column("token", alignment: .right)])
        table.addRow(["7", "a"])
        table.addSeparator()
        table.addRow(["12", "the"])
        let expected = [
            "id │ token",
            "───┼──────",
            "7  │     a",
            "───┼──────",
            "12 │   the",
        ].joined(separator: "\n")
        #expect(table.render() == expected)
    }

    @Test("numeric cell recognition")
    func numericCells() {
        for cell in ["12", "-0.5", "1,234", "12.3%", "4.56M", "1e-3", "3.2x", "0.25 s", "nan", "+7"] {
            #expect(Table.looksNumeric(cell), "\(cell) should count as a number")
        }
        for cell in ["abc", "1 2", "v2", "12.3k tokens/s", "", "-"] {
            #expect(!Table.looksNumeric(cell), "\(cell) should not count as a number")
        }
    }
}

@Suite("Format")
struct FormatTests {
    @Test("fixed decimals")
    func fixed() {
        #expect(Format.fixed(2.34567, digits: 3) == "2.346")
        #expect(Format.fixed(Float(0.5), digits: 2) == "0.50")
        #expect(Format.fixed(-0.0004, digits: 3) == "0.000")
        #expect(Format.fixed(-1.5, digits: 0) == "-2")
        #expect(Format.fixed(Double.nan, digits: 2) == "nan")
        #expect(Format.fixed(-Double.infinity, digits: 2) == "-inf")
    }

    @Test("significant digits")
    func significant() {
        #expect(Format.significant(0.00031234) == "0.0003123")
        #expect(Format.significant(2.31) == "2.31")
        #expect(Format.significant(1.5e-5, digits: 2) == "1.5e-05")
        #expect(Format.significant(0.0) == "0")
    }

    @Test("grouped, compact, percent, bytes")
    func counts() {
        #expect(Format.grouped(1_234_567) == "1,234,567")
        #expect(Format.grouped(-1000) == "-1,000")
        #expect(Format.grouped(999) == "999")
        #expect(Format.compact(950) == "950")
        #expect(Format.compact(12_345.0) == "12.3k")
        #expect(Format.compact(4_560_000) == "4.56M")
        #expect(Format.compact(999_960.0) == "1.00M")
        #expect(Format.compact(2.5) == "2.50")
        #expect(Format.percent(0.1234) == "12.3%")
        #expect(Format.bytes(512) == "512 B")
        #expect(Format.bytes(4198) == "4.1 KiB")
        #expect(Format.bytes(3 * 1024 * 1024) == "3.0 MiB")
    }

    @Test("durations and clocks")
    func durations() {
        #expect(Format.duration(seconds: 0.25) == "0.25 s")
        #expect(Format.duration(seconds: 12.34) == "12.3 s")
        #expect(Format.duration(seconds: 245) == "4 min 05 s")
        #expect(Format.duration(seconds: 7380) == "2 h 03 min")
        #expect(Format.clock(seconds: 7.9) == "0:07")
        #expect(Format.clock(seconds: 75) == "1:15")
        #expect(Format.clock(seconds: 3723) == "1:02:03")
        #expect(Format.clock(seconds: .infinity) == "--:--")
    }

    @Test("visible stand-ins for invisible characters")
    func visible() {
        #expect(Format.visible(" a\n") == "␣a\\n")
        #expect(Format.visible("\t\r") == "\\t\\r")
        #expect(Format.visible("\u{7}") == "\\u{7}")
        #expect(Format.visible("é🌊") == "é🌊")
    }
}

@Suite("Terminal")
struct TerminalTests {
    @Test("display widths")
    func displayWidths() {
        #expect(Terminal.displayWidth(of: "abc") == 3)
        #expect(Terminal.displayWidth(of: "café") == 4)
        #expect(Terminal.displayWidth(of: "e\u{301}") == 1)
        #expect(Terminal.displayWidth(of: "🌊") == 2)
        #expect(Terminal.displayWidth(of: "日本") == 4)
        #expect(Terminal.displayWidth(of: "░▒▓█") == 4)
        #expect(Terminal.displayWidth(of: "\n") == 0)
    }

    @Test("truncate and pad")
    func truncateAndPad() {
        #expect(Terminal.truncate("abcdef", toWidth: 4) == "abc…")
        #expect(Terminal.truncate("abc", toWidth: 4) == "abc")
        #expect(Terminal.truncate("日本語", toWidth: 4) == "日…")
        #expect(Terminal.pad("ab", toWidth: 4, alignRight: true) == "  ab")
        #expect(Terminal.pad("🌊", toWidth: 3, alignRight: false) == "🌊 ")
    }
}
