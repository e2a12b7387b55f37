import HavenCore
import HTTPTypes

/// Why a console page is not shown, in words: thrown by a handler, drawn as a page by
/// ``ConsoleGuard``.
struct ConsoleProblem: Error, Sendable {
    let status: HTTPResponse.Status
    let words: Words

    /// A token whose role may not open an editor's page.
    static func editorsOnly(_ role: Role) -> ConsoleProblem {
        ConsoleProblem(
            status: .forbidden,
            words: Words(
                "This page is for editors and admins; a \(role.rawValue) token cannot open it.",
                korean: "편집자와 관리자만 여는 페이지입니다. 이 토큰의 역할(\(role.rawValue))로는 열 수 없습니다."))
    }

    static let adminsOnly = ConsoleProblem(
        status: .forbidden,
        words: Words("Tokens are managed by admins only.", korean: "토큰은 관리자만 관리할 수 있습니다."))

    /// A post that does not carry its session's form key.
    static let staleForm = ConsoleProblem(
        status: .forbidden,
        words: Words(
            "This form is not from your current session (or has expired): reload the page and try again.",
            korean: "이 양식은 지금 세션의 것이 아니거나 만료되었습니다. 페이지를 새로 불러와 다시 하세요."))

    /// A post from another site.
    static let crossSite = ConsoleProblem(
        status: .forbidden,
        words: Words(
            "Refused: this form was sent from another site. Use the console's own pages.",
            korean: "거부했습니다: 다른 사이트에서 보낸 양식입니다. 콘솔의 페이지에서 보내세요."))

    static func noRecord(_ id: String) -> ConsoleProblem {
        ConsoleProblem(
            status: .notFound, words: Words("No record \(id) on this server.", korean: "이 서버에 없는 기록입니다: \(id)"))
    }
}
