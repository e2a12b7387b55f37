import HavenCore
import Hummingbird

extension ConsoleController {
    /// `GET /console/signin`.
    func signInPage(_ request: Request, context: HavenRequestContext) async throws -> Response {
        signInForm(ConsolePage(request, signedIn: nil), problem: nil)
    }

    /// `POST /console/signin`: the token typed in, checked as the API checks an `Authorization`
    /// header (failures counted by the same throttle), exchanged for a session cookie.
    func signIn(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let page = ConsolePage(request, signedIn: nil)
        let form = try await ConsoleForm.read(request, limit: configuration.maxBodyBytes)
        let token = form.text("token")
        do {
            _ = try await auth.authenticate(token.isEmpty ? nil : "Bearer \(token)", of: request, context: context)
        } catch let error as APIError where error.status == .tooManyRequests {
            let seconds = error.headers[.retryAfter] ?? "60"
            return signInForm(
                page,
                problem: Words(
                    "Too many failed sign-ins from this address: wait \(seconds) s, then try again.",
                    korean: "이 주소에서 로그인에 너무 많이 실패했습니다. \(seconds)초 기다린 뒤 다시 하세요."),
                status: .tooManyRequests)
        } catch let error as APIError where error.status == .unauthorized {
            return signInForm(
                page,
                problem: Words(
                    "This token is not accepted: it is unknown, expired or revoked. Check it and try again.",
                    korean: "받아들일 수 없는 토큰입니다: 없거나, 만료되었거나, 폐기된 토큰입니다. 확인하고 다시 하세요."),
                status: .unauthorized)
        }
        let id = try await sessions.open(tokenHash: TokenSecret.hash(token), now: clock())
        var response = Self.redirect("/console/records")
        response.headers[.setCookie] = sessionCookie(id, maxAge: ConsoleSessions.lifetime / 1000)
        return response
    }

    /// `POST /console/signout`: ends the session and clears its cookie.
    func signOut(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let signedIn = try await signedIn(request)
        _ = try await posted(request, by: signedIn)
        try await sessions.end(signedIn.sessionID)
        var response = Self.redirect("/console/signin")
        response.headers[.setCookie] = sessionCookie("", maxAge: 0)
        return response
    }

    /// The session cookie: unreadable by script, never sent from another site, only over HTTPS
    /// when the server speaks it, and gone when the session expires.
    func sessionCookie(_ value: String, maxAge: UInt64) -> String {
        "\(Self.sessionCookie)=\(value); Path=/console; Max-Age=\(maxAge); HttpOnly; SameSite=Strict"
            + (configuration.tls == nil ? "" : "; Secure")
    }

    private func signInForm(_ page: ConsolePage, problem: Words?, status: HTTPResponse.Status = .ok) -> Response {
        let message: HTML = problem.map { "<p class=\"problem\" role=\"alert\">\(page.text($0))</p>" } ?? ""
        return page.response(
            Words("Sign in", korean: "로그인"), status: status,
            """
            \(message)
            <form method="post" action="/console/signin">
            <label for="token">\(page.text(Words("Your token", korean: "내 토큰")))</label>
            <input type="password" id="token" name="token" autocomplete="current-password" required autofocus>
            <button type="submit">\(page.text(Words("Sign in", korean: "로그인")))</button>
            </form>
            """)
    }
}
