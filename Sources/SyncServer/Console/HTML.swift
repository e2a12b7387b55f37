/// A fragment of HTML for the console's pages, written as a string literal in which every
/// interpolated `String` is escaped by ``escape(_:)``: a stored `<script>` in a story's body is
/// shown as text. Only another `HTML` value is inserted as it is.
///
/// For example:
/// ```swift
/// let row: HTML = "<td>\(record.title)</td>"   // the title escaped
/// ```
struct HTML: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The markup.
    let markup: String

    init(stringLiteral value: String) { markup = value }

    init(stringInterpolation: Interpolation) { markup = stringInterpolation.markup }

    var description: String { markup }

    /// The fragments one after the other.
    init(joining fragments: [HTML]) { markup = fragments.map(\.markup).joined() }

    /// `text` with the five characters that HTML gives a meaning replaced by their references:
    /// safe between tags and inside a double- or single-quoted attribute.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Builds the markup: literals as written, text escaped, fragments as they are.
    struct Interpolation: StringInterpolationProtocol {
        var markup = ""

        init(literalCapacity: Int, interpolationCount: Int) { markup.reserveCapacity(literalCapacity * 2) }

        mutating func appendLiteral(_ literal: String) { markup += literal }
        mutating func appendInterpolation(_ text: String) { markup += HTML.escape(text) }
        mutating func appendInterpolation(_ number: some BinaryInteger) { markup += String(number) }
        mutating func appendInterpolation(_ fragment: HTML) { markup += fragment.markup }
        mutating func appendInterpolation(_ fragments: [HTML]) { markup += fragments.map(\.markup).joined() }
    }
}
