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

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar != "\n" && scalar != "\t") || (0x7F...0x9F).contains(scalar.value)
    }
}
