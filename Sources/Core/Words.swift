/// A sentence a person reads, in every language `haven` speaks, written side by side where it is
/// said: one cannot be written without its Korean, and a reader sees at once what both say.
///
/// Only the words a person reads go here; what a machine reads (`--json` keys, error codes,
/// record ids, field names) stays as it is inside both (``Language``, rule 3).
///
/// Korean is in the plain polite style (합니다, 하세요), with one term for each thing:
/// 복제본 (replica), 동기화 (sync), 서버 (server), 암호문구 (passphrase), 기록 (record),
/// 이야기 (story), 지원 정보 (resource), 토큰 (token), 변경 (change), 충돌 (conflict). A Korean
/// particle depends on the word before it, so a value that varies (a path, an id, an address)
/// never comes right before one: it follows a colon, or stands in parentheses after a noun
/// (`토큰 파일(\(path))을`).
///
/// For example:
/// ```swift
/// throw ClientError(Words(
///     "no replica at \(path): run 'haven init' first",
///     korean: "\(path)에 복제본이 없습니다: 먼저 'haven init'을 실행하세요"))
/// ```
public struct Words: Sendable, Hashable, CustomStringConvertible {
    /// What it says in English.
    public let english: String
    /// What it says in Korean.
    public let korean: String

    /// Words said in English and in Korean, side by side.
    public init(_ english: String, korean: String) {
        self.english = english
        self.korean = korean
    }

    /// Text that is the same in every language: a value, a code, a path, the server's own words.
    public init(verbatim text: String) {
        self.init(text, korean: text)
    }

    /// What it says in `language`.
    public func text(in language: Language) -> String {
        switch language {
        case .english: english
        case .korean: korean
        }
    }

    /// What it says in the language of this task (``Language/current``).
    public var text: String { text(in: .current) }

    /// The words in the language of this task (``text``).
    public var description: String { text }

    /// These words followed by `other`, each language with its own.
    public static func + (words: Words, other: Words) -> Words {
        Words(words.english + other.english, korean: words.korean + other.korean)
    }
}

extension Array where Element == Words {
    /// The words one after the other, each language with its own `separator`.
    public func joined(separator: Words) -> Words {
        Words(map(\.english).joined(separator: separator.english), korean: map(\.korean).joined(separator: separator.korean))
    }
}
