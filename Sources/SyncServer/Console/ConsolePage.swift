import Foundation
import HavenCore
import Hummingbird
import NIOCore

/// What every console page is drawn with: its language, who is signed in, and the frame around
/// its content (the header, the navigation, the language switch).
struct ConsolePage {
    let language: Language
    /// Nil on the sign-in page and on errors before sign-in.
    let signedIn: SignedIn?
    /// The path the language switch links back to.
    let path: String

    init(_ request: Request, signedIn: SignedIn?) {
        self.language = ConsoleLanguage.of(request)
        self.signedIn = signedIn
        self.path = request.uri.path
    }

    /// A moment, milliseconds since 1970, as UTC in ISO 8601.
    static func time(_ milliseconds: UInt64) -> String {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000).formatted(.iso8601)
    }

    /// `words` in the page's language.
    func text(_ words: Words) -> String { words.text(in: language) }

    /// The hidden field every form of a session posts back (``ConsoleSession/formKey``).
    var formKey: HTML {
        guard let signedIn else { return "" }
        return "<input type=\"hidden\" name=\"\(ConsoleForm.formKeyField)\" value=\"\(signedIn.formKey)\">"
    }

    /// A whole page: `content` in the frame, as a response.
    func response(_ title: Words, status: HTTPResponse.Status = .ok, _ content: HTML) -> Response {
        let title = text(title)
        let page: HTML = """
            <!doctype html>
            <html lang="\(language.rawValue)">
            <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · Haven</title><link rel="stylesheet" href="/console/style.css"></head>
            <body><header>\(navigation)</header>
            <main><h1>\(title)</h1>
            \(content)</main></body></html>
            """
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: page.markup)))
    }

    private var navigation: HTML {
        var links: [HTML] = []
        if let signedIn {
            links.append(link("/console/records", Words("Records", korean: "기록")))
            if signedIn.caller.role.seesEverything {
                links.append(link("/console/records/new?kind=story", Words("New story", korean: "새 이야기")))
                links.append(link("/console/records/new?kind=resource", Words("New resource", korean: "새 지원 정보")))
                links.append(link("/console/review", Words("Review", korean: "검토")))
                links.append(link("/console/import", Words("Import", korean: "가져오기")))
                links.append(link("/console/as", Words("As a user", korean: "사용자로 보기")))
                links.append(link("/console/health", Words("Health", korean: "서버 상태")))
            }
            if signedIn.caller.role == .admin { links.append(link("/console/tokens", Words("Tokens", korean: "토큰"))) }
        }
        let other: Language = language == .english ? .korean : .english
        let switchName = other == .korean ? "한국어" : "English"
        let signOut: HTML =
            signedIn.map { signedIn in
                """
                <form method="post" action="/console/signout" class="inline">\(formKey)\
                <button type="submit">\(text(Words("Sign out", korean: "로그아웃")))</button> \
                <span class="who">\(signedIn.caller.name) (\(signedIn.caller.role.rawValue))</span></form>
                """
            } ?? ""
        return """
            <nav aria-label="\(text(Words("Console", korean: "콘솔")))"><strong>Haven</strong> \(links) \
            <a href="\(path)?lang=\(other.rawValue)" lang="\(other.rawValue)">\(switchName)</a></nav>\(signOut)
            """
    }

    /// A link in the navigation, marked when it is the page shown.
    private func link(_ href: String, _ words: Words) -> HTML {
        let current: HTML = href == path ? " aria-current=\"page\"" : ""
        return "<a href=\"\(href)\"\(current)>\(text(words))</a> "
    }
}

/// The person signed in to the console, as their session and token say on this request.
struct SignedIn: Sendable {
    let caller: Caller
    let sessionID: String
    let formKey: String
}
