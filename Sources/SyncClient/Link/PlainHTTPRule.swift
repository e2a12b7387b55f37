import Foundation
import HavenCore

/// Rule: a replica talks plain `http://` only to its own machine (127.0.0.0/8, ::1, localhost),
/// unless it was made with `haven init --insecure-http`.
///
/// Field links are watched: over plain HTTP anyone on the path reads the records and the token.
/// The rule is checked before any connection is made, at `init` and on every sync.
public enum PlainHTTPRule {
    /// Throws a ``ClientError`` that says why and what to do if `server` is plain HTTP to another machine
    /// and `insecureHTTPAllowed` is false.
    public static func check(_ server: URL, insecureHTTPAllowed: Bool) throws {
        guard server.scheme?.lowercased() == "http", !insecureHTTPAllowed, !isLoopback(server.host ?? "") else { return }
        throw ClientError(
            Words(
                "refusing plain http:// to \(server.host ?? "the server"): links are watched, and over http anyone "
                    + "on the path reads every record and the token. Use the server's https:// address (see "
                    + "'haven-server serve --tls-certificate'), or, only on a network you control, make the replica "
                    + "with 'haven init --insecure-http'",
                korean: "일반 http://로는 연결하지 않습니다 (\(server.host ?? "서버")): 통신은 감시당하고 있으며, http로는 "
                    + "경로 중간의 누구나 모든 기록과 토큰을 읽을 수 있습니다. 서버의 https:// 주소를 쓰거나 "
                    + "('haven-server serve --tls-certificate'를 보세요), 직접 관리하는 네트워크에서만 "
                    + "'haven init --insecure-http'로 복제본을 만드세요"))
    }

    /// Whether `host` names this machine: localhost, an address in 127.0.0.0/8, or ::1.
    static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.first == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}
