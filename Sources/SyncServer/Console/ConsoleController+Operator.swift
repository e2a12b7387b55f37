import HavenCore
import Hummingbird

extension ConsoleController {
    func addOperatorRoutes(to console: RouterGroup<HavenRequestContext>) {
        console.get("as", use: asUser)
        console.get("health", use: health)
    }

    /// `GET /console/as?token=ID` or `?role=ROLE`: exactly the records that token (or a token of
    /// that role, owning nothing) receives, by the rule a pull follows.
    func asUser(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let signedIn = try await editor(request)
        let page = ConsolePage(request, signedIn: signedIn)
        let query = request.uri.queryParameters
        let tokens = try await store.tokens().filter { $0.isValid(at: clock()) }
        let chosenToken = query["token"].flatMap { id in tokens.first { $0.id == String(id) } }
        let chosenRole = query["role"].flatMap { Role(rawValue: String($0)) }
        let viewer =
            chosenToken.map { Caller(tokenID: $0.id, name: $0.name, role: $0.role) }
            ?? chosenRole.map { Caller(tokenID: "", name: $0.rawValue, role: $0) }
        let tokenOptions = tokens.map { token -> HTML in
            let selected: HTML = token.id == chosenToken?.id ? " selected" : ""
            return "<option value=\"\(token.id)\"\(selected)>\(token.name) (\(token.role.rawValue))</option>"
        }
        let roleOptions = Role.allCases.map { role -> HTML in
            let selected: HTML = role == chosenRole && chosenToken == nil ? " selected" : ""
            return "<option value=\"\(role.rawValue)\"\(selected)>\(role.rawValue)</option>"
        }
        var result: HTML = ""
        if let viewer {
            let records = RecordListing().apply(to: try await RecordListing.visible(to: viewer, in: store))
            result = recordTable(records, page: page)
        }
        return page.response(
            Words("As a user", korean: "사용자로 보기"),
            """
            <form method="get" action="/console/as">
            <label for="token">\(page.text(Words("A token", korean: "토큰")))</label>
            <select id="token" name="token"><option value=""></option>\(tokenOptions)</select>
            <label for="role">\(page.text(Words("or a role", korean: "또는 역할")))</label>
            <select id="role" name="role"><option value=""></option>\(roleOptions)</select>
            <button type="submit">\(page.text(Words("Show what it receives", korean: "받는 기록 보기")))</button>
            </form>
            \(result)
            """)
    }

    /// `GET /console/health`: the change log's size, head and compaction horizon, the long-polls
    /// waiting, and the last compaction.
    func health(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let signedIn = try await editor(request)
        let page = ConsolePage(request, signedIn: signedIn)
        let rows = try await store.pullRows(after: 0, limit: 1, recipient: "", readable: .publicOnly, whole: false)
        let size = try await store.logSize()
        func row(_ words: Words, _ value: String) -> HTML {
            "<tr><th scope=\"row\">\(page.text(words))</th><td>\(value)</td></tr>"
        }
        return page.response(
            Words("Health", korean: "서버 상태"),
            """
            <table><tbody>
            \(row(Words("Change log entries", korean: "변경 기록 항목 수"), String(size)))
            \(row(Words("Head (last seq)", korean: "마지막 seq"), String(rows.head)))
            \(row(Words("Compaction horizon (seq)", korean: "정리 경계 (seq)"), String(rows.horizon)))
            \(row(Words("Long-polls waiting now", korean: "지금 기다리는 롱 폴링"), String(activity.longPolls)))
            \(row(Words("Last compaction", korean: "마지막 정리"), lastCompaction(page)))
            </tbody></table>
            \(TrafficChart(hours: activity.lastDay(now: clock())).figure(on: page))
            """)
    }

    private func lastCompaction(_ page: ConsolePage) -> String {
        guard let last = activity.lastCompaction else {
            return page.text(Words("none since the server started", korean: "서버가 시작한 뒤로 없음"))
        }
        let summary = last.summary
        return ConsolePage.time(last.at)
            + page.text(
                Words(
                    ": \(summary.purgedRecords) records and \(summary.logEntries) log entries purged",
                    korean: ": 기록 \(summary.purgedRecords)개, 변경 기록 항목 \(summary.logEntries)개 정리"))
    }
}
