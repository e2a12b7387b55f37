import Foundation

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
            "refusing plain http:// to \(server.host ?? "the server"): links are watched, and over http anyone "
                + "on the path reads every record and the token. Use the server's https:// address (see "
                + "'haven-server serve --tls-certificate'), or, only on a network you control, make the replica "
                + "with 'haven init --insecure-http'")
    }

    /// Whether `host` names this machine: localhost, an address in 127.0.0.0/8, or ::1.
    static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.first == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}
