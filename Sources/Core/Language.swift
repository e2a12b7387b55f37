/// The language `haven` speaks to a person: Korean or English, chosen from the environment as
/// POSIX chooses a program's messages.
///
/// Rule 1. The first of `LC_ALL`, `LC_MESSAGES` and `LANG` that is set and not empty decides
/// (so `LC_ALL=C` wins over `LANG=ko_KR.UTF-8`).
///
/// Rule 2. A value whose language is `ko` (`ko`, `ko_KR`, `ko_KR.UTF-8`) is Korean, unless it
/// names a character set other than UTF-8 (`ko_KR.EUC-KR`): `haven` writes UTF-8 only, which such
/// a terminal would show garbled. Anything else, or nothing, is English.
///
/// Rule 3. What the machine reads never changes with the language: `--json` keys, error codes,
/// record ids and field names. Only the words a person reads do (``Words``).
///
/// For example:
/// ```swift
/// Language(environment: ["LANG": "ko_KR.UTF-8"])  // .korean
/// Language(environment: ["LC_ALL": "C", "LANG": "ko_KR.UTF-8"])  // .english
/// ```
public enum Language: String, Sendable, Hashable, CaseIterable {
    /// English, the protocol's language.
    case english = "en"
    /// Korean.
    case korean = "ko"

    /// The language for this task: English unless the `haven` command chose another from its
    /// environment at start (`Language.$current.withValue(…)`), so code and tests that never
    /// choose read English, whatever the shell's `LANG`.
    @TaskLocal public static var current: Language = .english

    /// The language `environment` asks for (rules 1 and 2).
    public init(environment: [String: String]) {
        let setting = ["LC_ALL", "LC_MESSAGES", "LANG"].lazy.compactMap { environment[$0] }.first { !$0.isEmpty } ?? ""
        self = Self.isKorean(setting) ? .korean : .english
    }

    /// Whether a locale name such as `ko_KR.UTF-8@variant` is Korean in UTF-8.
    private static func isKorean(_ locale: String) -> Bool {
        let withoutModifier = locale.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let parts = withoutModifier.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let language = parts[0].split(separator: "_", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard language.lowercased() == "ko" else { return false }
        guard parts.count == 2 else { return true }
        return ["utf-8", "utf8"].contains(parts[1].lowercased())
    }
}
