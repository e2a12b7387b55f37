import HavenCore
import Hummingbird

/// The language a console page is written in: `?lang=` when the person just switched, then the
/// cookie that switch set, then the browser's `Accept-Language`, then English.
enum ConsoleLanguage {
    /// The cookie that remembers a switch.
    static let cookie = "haven_lang"

    static func of(_ request: Request) -> Language {
        if let chosen = chosen(in: request) { return chosen }
        if let saved = request.cookies[cookie]?.value, let language = Language(rawValue: saved) { return language }
        return preferred(request.headers[.acceptLanguage] ?? "")
    }

    /// The language `?lang=` asks for, if it names one the console speaks.
    static func chosen(in request: Request) -> Language? {
        request.uri.queryParameters["lang"].flatMap { Language(rawValue: String($0)) }
    }

    /// The first language of an `Accept-Language` value the console speaks, by quality.
    static func preferred(_ header: String) -> Language {
        let ranked = header.split(separator: ",").enumerated().compactMap { index, item -> (Language, Double, Int)? in
            let parts = item.split(separator: ";")
            let tag = parts.first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            let primary = tag.split(separator: "-").first.map(String.init) ?? ""
            guard let language = Language(rawValue: primary) else { return nil }
            let quality = parts.dropFirst().compactMap { part -> Double? in
                let pair = part.trimmingCharacters(in: .whitespaces)
                return pair.hasPrefix("q=") ? Double(pair.dropFirst(2)) : nil
            }.first ?? 1
            return quality > 0 ? (language, quality, index) : nil
        }
        return ranked.min { ($0.1, -$0.2) > ($1.1, -$1.2) }?.0 ?? .english
    }
}
