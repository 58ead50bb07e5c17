import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Facts about the terminal that the console views need: whether a stream is a terminal, whether
/// colour is wanted, how wide the window is, and how many columns a string takes.
public enum Terminal {
    /// Returns whether standard output is a terminal, so escape codes will be rendered.
    public static var isStandardOutputTerminal: Bool {
        isatty(STDOUT_FILENO) == 1
    }

    /// Returns whether standard error is a terminal.
    public static var isStandardErrorTerminal: Bool {
        isatty(STDERR_FILENO) == 1
    }

    /// Returns whether colour escape codes should be written to standard output.
    ///
    /// Colour is used only when standard output is a terminal and the `NO_COLOR` environment
    /// variable is unset or empty, following the convention documented at no-color.org.
    public static var standardOutputSupportsColor: Bool {
        let noColor = ProcessInfo.processInfo.environment["NO_COLOR"] ?? ""
        return noColor.isEmpty && isStandardOutputTerminal
    }

    /// Returns the width in columns of the terminal attached to standard error.
    ///
    /// Falls back to the `COLUMNS` environment variable and then to 80 when standard error is not
    /// a terminal or the size is unknown.
    public static var standardErrorColumns: Int {
        var size = winsize()
        let status = withUnsafeMutablePointer(to: &size) { pointer in
            ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), pointer)
        }
        if status == 0, size.ws_col > 0 {
            return Int(size.ws_col)
        }
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns > 0 {
            return columns
        }
        return 80
    }

    /// Returns the number of terminal columns `text` occupies.
    ///
    /// Each grapheme cluster counts 2 columns when it is an emoji shown as a picture or an East
    /// Asian wide character, 0 when it is a control or format character, and 1 otherwise.
    /// This approximates the C function `wcwidth`; terminals disagree on a few rare characters.
    /// The text must not contain escape sequences.
    public static func displayWidth(of text: String) -> Int {
        var width = 0
        for character in text {
            width += displayWidth(of: character)
        }
        return width
    }

    /// Returns the number of terminal columns one grapheme cluster occupies.
    static func displayWidth(of character: Character) -> Int {
        let scalars = character.unicodeScalars
        guard let first = scalars.first else { return 0 }

        let category = first.properties.generalCategory
        if category == .control || category == .format || category == .nonspacingMark || category == .enclosingMark {
            return 0
        }

        // U+FE0F requests the picture form of a character that is text by default, such as ❤️.
        let asksForEmoji = scalars.contains { $0.value == 0xFE0F }
        if first.properties.isEmojiPresentation || (asksForEmoji && first.properties.isEmoji) {
            return 2
        }
        return isEastAsianWide(first) ? 2 : 1
    }

    /// Returns whether a scalar lies in the main East Asian wide and fullwidth blocks.
    private static func isEastAsianWide(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x1100...0x115F,  // Hangul Jamo initial consonants
             0x2E80...0x303E,  // CJK radicals, punctuation
             0x3041...0x33FF,  // Hiragana, Katakana, CJK compatibility
             0x3400...0x4DBF,  // CJK extension A
             0x4E00...0x9FFF,  // CJK unified ideographs
             0xA000...0xA4CF,  // Yi
             0xAC00...0xD7A3,  // Hangul syllables
             0xF900...0xFAFF,  // CJK compatibility ideographs
             0xFE30...0xFE4F,  // CJK compatibility forms
             0xFF00...0xFF60,  // fullwidth forms
             0xFFE0...0xFFE6,
             0x20000...0x3FFFD:  // CJK extensions B and later
            return true
        default:
            return false
        }
    }

    /// Pads `text` with spaces to `width` columns, keeping text that is already wider unchanged.
    static func pad(_ text: String, toWidth width: Int, alignRight: Bool) -> String {
        let missing = width - displayWidth(of: text)
        guard missing > 0 else { return text }
        let padding = String(repeating: " ", count: missing)
        return alignRight ? padding + text : text + padding
    }

    /// Cuts `text` to at most `width` columns, ending it with "…" when something was cut.
    static func truncate(_ text: String, toWidth width: Int) -> String {
        guard displayWidth(of: text) > width else { return text }
        guard width > 0 else { return "" }

        var result = ""
        var used = 0
        for character in text {
            let characterWidth = displayWidth(of: character)
            if used + characterWidth > width - 1 { break }
            result.append(character)
            used += characterWidth
        }
        return result + "…"
    }
}
