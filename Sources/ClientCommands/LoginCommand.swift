import ArgumentParser
import Foundation
import HavenClient
import HavenCore

/// `haven login`: a new token or server for an existing replica, keeping every unsent change:
/// for a token that was revoked, rotated or expired, or a server that moved.
struct LoginCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "login",
            abstract: Words(
                "Give this replica a new token or server, keeping every unsent change.",
                korean: "이 복제본에 새 토큰이나 서버를 줍니다. 보내지 않은 변경은 모두 남습니다.").text,
            discussion: TokenOptions.discussion + "\n"
                + Words(
                    """
                    The server is checked with the token before anything changes. If it holds another database \
                    than the one this replica last pulled from, or the token belongs to another account or role, \
                    the next sync downloads everything again; unsent and rejected changes are kept and sent. \
                    A new https:// server's key is pinned as 'haven init' pins it; the same server keeps its pin \
                    (a changed key is 'haven pin update').
                    """,
                    korean: """
                    무엇이든 바꾸기 전에 그 토큰으로 서버를 확인합니다. 서버의 데이터베이스가 이 복제본이 마지막으로 \
                    받아 온 것과 다르거나, 다른 계정이나 역할의 토큰이면, 다음 동기화 때 모두 새로 내려받습니다. \
                    보내지 않은 변경과 거부된 변경은 남아 있다가 보내집니다. 새 https:// 서버의 키는 'haven init'처럼 \
                    고정하고, 같은 서버는 고정된 키를 그대로 씁니다 (키가 바뀌었으면 'haven pin update').
                    """
                ).text)
    }

    @OptionGroup var replica: ReplicaOptions
    @Option(
        help: ArgumentHelp(
            Words(
                "The server's address, if it changed, such as https://haven.example.org:8443.",
                korean: "서버 주소가 바뀌었으면 새 주소 (예: https://haven.example.org:8443).")))
    var server: String?
    @OptionGroup var token: TokenOptions
    @Option(
        help: ArgumentHelp(
            Words(
                "A new https:// server's key as its admin gave it.",
                korean: "서버 관리자가 알려 준, 새 https:// 서버의 키."), valueName: "sha256/BASE64"))
    var pin: String?
    @Flag(help: ArgumentHelp(.insecureHTTPHelp)) var insecureHTTP = false

    func validate() throws {
        if let server { _ = try ServerAddress.parse(server, pin: pin) }
    }

    func run() async throws {
        let replica = try replica.open()
        let settings = try replica.settings()
        let url = server.map { URL(string: $0)! } ?? settings.server
        var link = Replica.Link(insecureHTTP: insecureHTTP || settings.insecureHTTP)
        try PlainHTTPRule.check(url, insecureHTTPAllowed: link.insecureHTTP)
        let secret = try token.read()
        if url.scheme == "https" {
            let sameServer = url.host == settings.server.host && url.port == settings.server.port
            link.pin = sameServer && pin == nil && settings.pin != nil
                ? settings.pin : try await ServerAddress.pinKey(of: url, expected: pin)
        }
        let account = try await ServerAddress.check(url, token: secret, link: link)
        let otherDatabase = try await Self.forgets(settings.cursor, server: url, token: secret, link: link)
        let otherAccount = account.name != settings.accountName || account.role != settings.role
        let redownload = otherDatabase || (otherAccount && settings.cursor != nil)
        let kept = try replica.login(
            server: url, token: secret, link: link, account: account, redownload: redownload)
        let token = ServerAddress.describe(account)
        print(
            Words(
                "this replica now uses \(url.absoluteString) with \(token.english); "
                    + "\(kept) unsent change\(kept == 1 ? "" : "s") kept",
                korean: "이 복제본은 이제 \(url.absoluteString) 서버와 \(token.korean)을 씁니다. "
                    + "보내지 않은 변경 \(kept)개는 그대로 남아 있습니다"))
        if otherDatabase {
            print(
                Words(
                    "the server holds another database than this replica last pulled from: 'haven sync' downloads "
                        + "everything again and then sends the unsent changes",
                    korean: "서버의 데이터베이스가 이 복제본이 마지막으로 받아 온 것과 다릅니다: 'haven sync'가 모두 새로 "
                        + "내려받은 뒤 보내지 않은 변경을 보냅니다"))
        } else if redownload {
            print(
                Words(
                    "the token belongs to another account or role, which may see other records: 'haven sync' "
                        + "downloads everything again and then sends the unsent changes",
                    korean: "다른 계정이나 역할의 토큰이라 보이는 기록이 다를 수 있습니다: 'haven sync'가 모두 새로 "
                        + "내려받은 뒤 보내지 않은 변경을 보냅니다"))
        }
    }

    /// Whether `server` no longer knows `cursor` (another database, or one restored or
    /// compacted past it): its pull answers `410`, as a sync's would.
    private static func forgets(_ cursor: SyncCursor?, server: URL, token: String, link: Replica.Link)
        async throws -> Bool
    {
        guard let cursor else { return false }
        let transport: any HTTPTransport = link.pin.map { PinnedTransport(pin: $0) } ?? HTTPClientTransport()
        do {
            _ = try await ServerAPI(server: server, token: token, transport: transport).pull(since: cursor, limit: 1)
            return false
        } catch let error as ServerError where error.status == 410 {
            return true
        }
    }
}
