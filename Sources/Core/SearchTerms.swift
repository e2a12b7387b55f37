import Foundation

/// How a search query is read, and which text of a record it looks in: one rule for the
/// replica's full-text index (`haven search`) and the server's console.
///
/// Rule 1. A query is words separated by spaces, every one required; "double quotes" keep words
/// together as one term. Terms are compared in canonical (NFC) form, as stored text usually is.
///
/// Rule 2. A record is searched in its title, summary and body (a resource's name and
/// description); a term matches any substring of them, in any script, without regard to case:
/// Korean text has no spaces between words for a word splitter to find.
public enum SearchTerms {
    /// The terms of `query` (rule 1); none for a query of spaces.
    public static func split(_ query: String) -> [String] {
        var terms: [String] = []
        for (index, part) in query.precomposedStringWithCanonicalMapping.split(
            separator: "\"", omittingEmptySubsequences: false
        )
        .enumerated() {
            if index % 2 == 1 {
                let phrase = part.trimmingCharacters(in: .whitespacesAndNewlines)
                if !phrase.isEmpty { terms.append(phrase) }
            } else {
                terms += part.split(whereSeparator: \.isWhitespace).map(String.init)
            }
        }
        return terms
    }

    /// The fields searched in a record of `kind`, most telling first (rule 2).
    public static func fields(of kind: RecordKind) -> [String] {
        switch kind {
        case .story: ["title", "summary", "body"]
        case .resource: ["name", "description"]
        }
    }

    /// Whether every term occurs in one of the searched fields of `values` (rule 2); and if so, a
    /// rank: higher when terms occur in more telling fields.
    public static func rank(of values: [String: JSONValue], kind: RecordKind, terms: [String]) -> Int? {
        let texts = fields(of: kind).map { (values[$0]?.stringValue ?? "").precomposedStringWithCanonicalMapping.lowercased() }
        var rank = 0
        for term in terms.map({ $0.lowercased() }) {
            guard let place = texts.firstIndex(where: { $0.contains(term) }) else { return nil }
            rank += texts.count - place
        }
        return rank
    }
}
