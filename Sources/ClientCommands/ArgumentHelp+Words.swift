import ArgumentParser
import HavenClient
import HavenCore

/// `--help` in the person's language: ArgumentParser reads a command's `configuration` and its
/// options' help as it parses, inside the language `haven` chose at start (``Language``), so both
/// are computed from ``Words``. ArgumentParser's own headings (USAGE, OPTIONS) stay English.
extension ArgumentHelp {
    /// The help `words` say, in the language of this task.
    init(_ words: Words, valueName: String? = nil) {
        self.init(words.text, valueName: valueName)
    }
}

/// Words said by many commands, each in one place.
extension Words {
    /// What starts a warning on standard error.
    static let warning = Words("warning: ", korean: "경고: ")
    /// `--json` on a command that prints records or a result.
    static let printJSONHelp = Words("Print JSON.", korean: "JSON으로 출력합니다.")
    /// `--json` on a command that does something and then reports it.
    static let printJSONSummaryHelp = Words("Print a JSON summary.", korean: "요약을 JSON으로 출력합니다.")
    /// A record named by its id, in this replica.
    static let recordIDHelp = Words("The id, or its first characters.", korean: "id, 또는 id의 앞부분.")
    /// A record named by its id, which the server may know and this replica not.
    static let recordIDOnServerHelp = Words(
        "The id, or its first characters when the record is in this replica.",
        korean: "id. 이 복제본에 있는 기록이면 id의 앞부분만 써도 됩니다.")
    /// `--insecure-http` on `init` and `login`.
    static let insecureHTTPHelp = Words(
        "Allow plain http:// to another machine: anyone on the link reads the records and the token.",
        korean: "다른 기기로 가는 일반 http://를 허용합니다: 연결 중간의 누구나 기록과 토큰을 읽을 수 있습니다.")
}
