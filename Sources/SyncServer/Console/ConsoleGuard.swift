import Foundation
import HavenCore
import Hummingbird
import HTTPTypes

/// Wraps every console route: refuses posts from other sites, draws a ``ConsoleProblem`` as a
/// page in words, and adds the headers that keep a page from being framed, sniffed or made to
/// run script it did not bring (`Content-Security-Policy`: nothing inline, nothing from
/// elsewhere).
///
/// A post is refused when the browser says it came from another site: `Sec-Fetch-Site` other
/// than `same-origin` (or `none`, typed by the person), or an `Origin` whose host is not the one
/// the request was sent to (HTTP/1's `Host`, the request's authority). The session's form key
/// (``ConsoleSessions``) is checked besides, by each handler that changes something.
struct ConsoleGuard: RouterMiddleware {
    typealias Context = HavenRequestContext

    /// The policy of every console response: the console's own style sheet, no script at all.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var response: Response
        do {
            if request.method == .post, !Self.isSameSite(request) { throw ConsoleProblem.crossSite }
            response = try await next(request, context)
        } catch let problem as ConsoleProblem {
            response = Self.page(for: problem, request: request)
        } catch let error as any HTTPResponseError {
            response = Self.page(
                for: ConsoleProblem(
                    status: error.status,
                    words: Words(
                        "The request was not accepted (\(error.status.code) \(error.status.reasonPhrase)).",
                        korean: "요청을 받아들이지 않았습니다 (\(error.status.code) \(error.status.reasonPhrase)).")),
                request: request)
        }
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.referrerPolicy] = "same-origin"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        if let language = ConsoleLanguage.chosen(in: request) {
            response.headers.append(
                HTTPField(
                    name: .setCookie,
                    value: "\(ConsoleLanguage.cookie)=\(language.rawValue); Path=/console; Max-Age=31536000; SameSite=Strict"))
        }
        return response
    }

    /// Whether the browser says a post comes from the console's own pages (see the type's notes).
    static func isSameSite(_ request: Request) -> Bool {
        if let site = request.headers[.secFetchSite]?.lowercased(), site != "same-origin", site != "none" {
            return false
        }
        guard let origin = request.headers[.origin] else { return true }
        guard let host = request.head.authority,
            let url = URL(string: origin), let originHost = url.host
        else { return false }
        let authority = originHost + (url.port.map { ":\($0)" } ?? "")
        return authority.lowercased() == host.lowercased()
    }

    /// The page (or, to sign in, the redirect) that says what went wrong.
    private static func page(for problem: ConsoleProblem, request: Request) -> Response {
        if problem.status == .seeOther {
            return Response(status: .seeOther, headers: [.location: "/console/signin"])
        }
        let page = ConsolePage(request, signedIn: nil)
        let title =
            switch problem.status {
            case .forbidden: Words("Not allowed", korean: "허용되지 않습니다")
            case .notFound: Words("Not found", korean: "찾을 수 없습니다")
            default: Words("Not done", korean: "하지 못했습니다")
            }
        return page.response(
            title, status: problem.status,
            """
            <p class="problem" role="alert">\(page.text(problem.words))</p>
            <p><a href="/console/records">\(page.text(Words("Back to the records", korean: "기록 목록으로")))</a></p>
            """)
    }
}

extension ConsoleProblem {
    /// Not signed in, or the session ended: the guard sends the browser to the sign-in page.
    static let signInNeeded = ConsoleProblem(
        status: .seeOther, words: Words("Sign in first.", korean: "먼저 로그인하세요."))
}

extension HTTPField.Name {
    static let secFetchSite = Self("Sec-Fetch-Site")!
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
}
