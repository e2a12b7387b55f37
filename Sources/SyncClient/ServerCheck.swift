import Foundation
import HavenCore

/// What `haven init` and `haven login` check before saving anything, with `GET /v1/me`: the
/// server is reachable, it is a Haven server (not another HTTP service at that address), and it
/// takes the token. A failure says which of the three failed and names the address, so a wrong
/// port or path fails there, not at the first sync.
///
/// A request the link drops (a reset, a timeout) is tried again at once, up to
/// ``linkAttempts`` times in all and while the check's timeout has not passed: on a flaky radio
/// link a person should not have to type the command again. A server's answer, a changed pinned
/// key or a malformed address is final.
public enum ServerCheck {
    /// How many times a check's request is sent when the link keeps dropping it.
    public static let linkAttempts = 4

    /// The token's account on `server`, once all three checks pass.
    ///
    /// - Throws: ``ClientError`` saying which check failed, or that the pinned key changed (naming
    ///   both keys).
    public static func account(at server: URL, token: String, transport: any HTTPTransport, timeout: Double = 30)
        async throws -> Account
    {
        var api = ServerAPI(server: server, token: token, transport: transport)
        api.timeout = timeout
        do {
            return try await retryingLinkFailures(timeout: timeout) { try await api.me() }
        } catch let error as ServerError {
            throw ClientError(refusal(error, server: server))
        } catch let error as ServerAPI.UnreadableAnswer {
            throw notHaven(
                server,
                because: Words(
                    "its answer to /v1/me is not a Haven account (\(error.reason))",
                    korean: "/v1/me에 대한 답이 Haven 계정이 아닙니다 (\(error.reason))"))
        } catch let error as ProtocolViolation {
            throw notHaven(server, because: error.words)
        } catch let error as ClientError {
            throw error
        } catch {
            let failure = describeFailure(error, server: server)
            throw ClientError(
                Words(
                    "cannot reach the server: \(failure.english); nothing was saved",
                    korean: "서버에 닿을 수 없습니다: \(failure.korean). 아무것도 저장하지 않았습니다"),
                code: .unreachable)
        }
    }

    /// The publisher keys `server` signs with (`GET /v1/publisher`), oldest first; empty when it
    /// signs nothing. What `haven init` pins.
    public static func publisherKeys(at server: URL, token: String, transport: any HTTPTransport) async throws -> [PublisherKeyEntry] {
        let api = ServerAPI(server: server, token: token, transport: transport)
        return try await retryingLinkFailures { try await api.publisher() }.keys
    }

    /// `request`, sent again after a short pause each time the link drops it, while less than
    /// `timeout` seconds have gone since the first: a link that times out every request is not
    /// waited on four times over.
    static func retryingLinkFailures<T>(timeout: Double = 30, _ request: () async throws -> T) async throws -> T {
        let clock = ContinuousClock()
        let started = clock.now
        var attempt = 1
        while true {
            do {
                return try await request()
            } catch where attempt < linkAttempts && SyncFailure(error) == .link
                && started.duration(to: clock.now) < .seconds(timeout)
            {
                try await Task.sleep(for: .milliseconds(250 * attempt))
                attempt += 1
            }
        }
    }

    /// The words for an error answer to `/v1/me`.
    private static func refusal(_ error: ServerError, server: URL) -> Words {
        let address = server.absoluteString
        guard error.isHavenError else {
            return notHaven(
                server,
                because: Words(
                    "it answered /v1/me with HTTP \(error.status), not a Haven answer",
                    korean: "/v1/me에 대한 답이 HTTP \(error.status)이고, Haven 서버의 답이 아닙니다")
            ).words
        }
        let hasPath = !server.path.isEmpty && server.path != "/"
        let code = error.detail.code
        if error.status == 401 || code == .tooManyAttempts {
            return Words(
                "\(address) is a Haven server, but it refused the token (\(code)): the token is "
                    + "unknown, expired or revoked, or mistyped; ask an admin for a new one. Nothing was saved",
                korean: "\(address): Haven 서버이지만 토큰을 거부했습니다 (\(code)). 서버가 모르는 토큰이거나, 만료되었거나, "
                    + "취소되었거나, 잘못 입력한 토큰입니다: 관리자에게 새 토큰을 요청하세요. 아무것도 저장하지 않았습니다")
        }
        switch error.status {
        case 404 where hasPath, 405 where hasPath:
            return Words(
                "\(address) reaches a Haven server, but not at its root: give the address without the path "
                    + "\(server.path), such as \(root(of: server)). Nothing was saved",
                korean: "\(address): Haven 서버에 닿지만 서버의 루트 주소가 아닙니다: 경로(\(server.path))를 뺀 주소를 "
                    + "주세요 (예: \(root(of: server))). 아무것도 저장하지 않았습니다")
        case 404, 405:
            return Words(
                "the Haven server at \(address) does not know /v1/me: it is older than this haven; ask its admin to "
                    + "update haven-server. Nothing was saved",
                korean: "\(address)의 Haven 서버가 /v1/me를 모릅니다: 이 haven보다 오래된 서버입니다. 서버 관리자에게 "
                    + "haven-server를 업데이트해 달라고 하세요. 아무것도 저장하지 않았습니다")
        default:
            let quoted = "\(error.detail.message) (\(code))"
            return Words(
                "\(address) answered /v1/me with \(error.status): \(quoted). Nothing was saved",
                korean: "\(address): /v1/me에 대한 답이 \(error.status)입니다: \(quoted). 아무것도 저장하지 않았습니다")
        }
    }

    private static func notHaven(_ server: URL, because reason: Words) -> ClientError {
        let address = server.absoluteString
        return ClientError(
            Words(
                "\(address) answers, but is not a Haven server: \(reason.english). Check the address and the port "
                    + "(haven-server prints them: 'haven-server listening on …'); nothing was saved",
                korean: "\(address): 답은 하지만 Haven 서버가 아닙니다: \(reason.korean). 주소와 포트를 확인하세요 "
                    + "(haven-server가 시작할 때 'haven-server listening on …' 줄로 알려 줍니다). 아무것도 저장하지 않았습니다"))
    }

    /// `server` without its path, query and fragment.
    private static func root(of server: URL) -> String {
        var components = URLComponents(url: server, resolvingAgainstBaseURL: false)
        components?.path = ""
        components?.query = nil
        components?.fragment = nil
        return components?.string ?? server.absoluteString
    }
}
