import Foundation

/// Text on its way to a person's terminal. Record text and server messages are written by
/// others, and a terminal obeys the control characters in what it shows: `ESC[2J` clears the
/// screen, an OSC sequence retitles the window, a carriage return lets a line hide the one it
/// overwrites. So every line `haven` prints shows them as `\u001b` and the like instead
/// (issue 19, item 14).
///
/// Applied to JSON the result is the same JSON: an encoder leaves no C0 control unescaped but the
/// newlines of pretty printing (kept here), and `\u00XX` is JSON's own escape for the rest.
public enum TerminalText {
    /// `text` with every C0 control but newline and tab, DEL and every C1 control written as `\u00XX`.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var escaped = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                escaped.append(contentsOf: String(format: "\\u%04x", scalar.value).unicodeScalars)
            } else {
                escaped.append(scalar)
            }
        }
        return String(escaped)
    }

    /// How many terminal columns `text` takes: Hangul, Han and kana, and full-width forms take
    /// two, as terminals show them, so a table with Korean headers or titles lines up.
    public static func columns(_ text: String) -> Int {
        text.reduce(0) { total, character in
            guard let first = character.unicodeScalars.first else { return total }
            return total + (wideRanges.contains { $0.contains(first.value) } ? 2 : 1)
        }
    }

    /// East Asian Wide and Fullwidth blocks (Unicode UAX #11), the ones Haven's text uses.
    private static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
        0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x20000...0x3FFFD,
    ]

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar != "\n" && scalar != "\t") || (0x7F...0x9F).contains(scalar.value)
    }
}
