import HavenCore
import Hummingbird

extension ConsoleController {
    func addTokenRoutes(to console: RouterGroup<HavenRequestContext>) {
        console.get("tokens", use: tokens)
        console.post("tokens", use: createToken)
        console.post("tokens/:id/revoke", use: revokeToken)
    }

    /// Who is signed in, refused unless an admin.
    private func admin(_ request: Request) async throws -> SignedIn {
        let signedIn = try await editor(request)
        guard signedIn.caller.role == .admin else { throw ConsoleProblem.adminsOnly }
        return signedIn
    }

    /// `GET /console/tokens`: every token, with a form to create one.
    func tokens(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let signedIn = try await admin(request)
        return try await tokensPage(ConsolePage(request, signedIn: signedIn), notice: nil)
    }

    /// `POST /console/tokens`: a new token; its secret is shown once, on the answer.
    func createToken(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let signedIn = try await admin(request)
        let page = ConsolePage(request, signedIn: signedIn)
        let posted = try await posted(request, by: signedIn)
        let name = posted.text("name")
        let days = posted.text("days")
        guard (1...100).contains(name.count), !name.contains(where: \.isNewline) else {
            return try await tokensPage(page, notice: problem(Words("name: must have 1 to 100 characters on one line", korean: "name: 한 줄에 1글자에서 100글자까지여야 합니다"), page))
        }
        guard let role = Role(rawValue: posted.text("role")) else {
            return try await tokensPage(page, notice: problem(Words("role: choose admin, editor, field or reader", korean: "role: admin, editor, field, reader 중 하나를 고르세요"), page))
        }
        let lifetime = days.isEmpty ? nil : Int(days).flatMap { (1...36_500).contains($0) ? UInt64($0) * 86_400_000 : nil }
        guard days.isEmpty || lifetime != nil else {
            return try await tokensPage(page, notice: problem(Words("days: a whole number from 1 to 36500, or empty for never", korean: "days: 1에서 36500까지의 정수이거나, 만료 없음이면 비워 두세요"), page))
        }
        let now = clock()
        let secret = TokenSecret.generate()
        let token = TokenInfo(
            id: TokenSecret.generateID(), name: name, role: role, createdAt: now, expiresAt: lifetime.map { expiry(after: $0, from: now) },
            revokedAt: nil)
        do {
            try await store.addToken(token, hash: TokenSecret.hash(secret))
        } catch let taken as TokenNameTaken {
            return try await tokensPage(page, notice: problem(Words(verbatim: "name: \(taken)"), page))
        }
        let notice: HTML = """
            <div class="notice" role="status"><p>\(page.text(Words("Token created. Copy it now: it is shown only once.", korean: "토큰을 만들었습니다. 지금 복사하세요: 한 번만 보여 줍니다.")))</p>
            <p><label for="secret">\(name) (\(role.rawValue))</label><input type="text" id="secret" readonly value="\(secret)"></p></div>
            """
        return try await tokensPage(page, notice: notice)
    }

    /// `POST /console/tokens/{id}/revoke`: the token stops working, its console sessions included.
    func revokeToken(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let signedIn = try await admin(request)
        _ = try await posted(request, by: signedIn)
        _ = try await store.revokeToken(id: context.parameters.get("id") ?? "", now: clock())
        return Self.redirect("/console/tokens")
    }

    private func problem(_ words: Words, _ page: ConsolePage) -> HTML {
        "<p class=\"problem\" role=\"alert\">\(page.text(words))</p>"
    }

    private func tokensPage(_ page: ConsolePage, notice: HTML?) async throws -> Response {
        let now = clock()
        let rows = try await store.tokens().map { token -> HTML in
            let state =
                token.revokedAt != nil
                ? page.text(Words("revoked", korean: "폐기됨"))
                : token.isValid(at: now) ? page.text(Words("valid", korean: "유효")) : page.text(Words("expired", korean: "만료됨"))
            let revoke: HTML =
                token.revokedAt == nil
                ? """
                <form method="post" action="/console/tokens/\(token.id)/revoke" class="inline">\(page.formKey)\
                <button type="submit" class="danger" aria-label="\(page.text(Words("Revoke", korean: "폐기"))) \(token.name)">\
                \(page.text(Words("Revoke", korean: "폐기")))</button></form>
                """ : ""
            return """
                <tr><td>\(token.name)</td><td>\(token.role.rawValue)</td><td><code>\(token.id)</code></td>\
                <td>\(token.expiresAt.map(ConsolePage.time) ?? "—")</td><td>\(state)</td><td>\(revoke)</td></tr>
                """
        }
        let roles = Role.allCases.map { role -> HTML in "<option value=\"\(role.rawValue)\">\(role.rawValue)</option>" }
        return page.response(
            Words("Tokens", korean: "토큰"),
            """
            \(notice ?? "")
            <form method="post" action="/console/tokens">\(page.formKey)
            <label for="name">\(page.text(Words("Name (a pseudonym)", korean: "이름 (가명)")))</label>
            <input type="text" id="name" name="name" required>
            <label for="role">\(page.text(Words("Role", korean: "역할")))</label><select id="role" name="role">\(roles)</select>
            <label for="days">\(page.text(Words("Expires after (days; empty for never)", korean: "만료까지 (일; 비우면 만료 없음)")))</label>
            <input type="text" id="days" name="days" inputmode="numeric">
            <button type="submit">\(page.text(Words("Create token", korean: "토큰 만들기")))</button>
            </form>
            <table><thead><tr><th scope="col">\(page.text(Words("Name", korean: "이름")))</th>\
            <th scope="col">\(page.text(Words("Role", korean: "역할")))</th><th scope="col">id</th>\
            <th scope="col">\(page.text(Words("Expires", korean: "만료")))</th>\
            <th scope="col">\(page.text(Words("State", korean: "상태")))</th><th scope="col"></th></tr></thead>
            <tbody>\(rows)</tbody></table>
            """)
    }
}
