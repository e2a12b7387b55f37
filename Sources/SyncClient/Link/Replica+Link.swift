import Foundation
import GRDB
import HavenCore

extension Replica {
    /// How a replica reaches its server, chosen at `haven init`.
    public struct Link: Sendable {
        /// The https:// server's key; nil for http://.
        public var pin: PinnedKey?
        /// Plain http:// to another machine allowed (`--insecure-http`).
        public var insecureHTTP: Bool

        /// A link that trusts `pin` for an https:// server, and allows plain http:// to another machine only with `insecureHTTP`.
        public init(pin: PinnedKey? = nil, insecureHTTP: Bool = false) {
            self.pin = pin
            self.insecureHTTP = insecureHTTP
        }
    }

    /// Replaces the pinned server key (`haven pin update`).
    public func setPin(_ pin: PinnedKey) throws {
        try database.write { db in try ReplicaSettings.set(db, .pin, pin.description) }
    }
}

extension ReplicaSettings {
    /// The transport to this replica's server, once the link's rules allow it: plain HTTP only to
    /// this machine or as `--insecure-http` allowed, HTTPS only to the pinned key.
    ///
    /// - Throws: ``ClientError`` before any connection is made when a rule refuses.
    public func transport() throws -> any HTTPTransport {
        try PlainHTTPRule.check(server, insecureHTTPAllowed: insecureHTTP)
        guard server.scheme?.lowercased() == "https" else { return HTTPClientTransport() }
        guard let pin else {
            throw ClientError(
                Words(
                    "this replica has no pinned key for its https:// server: run 'haven pin update' to fetch one",
                    korean: "이 복제본에는 https:// 서버의 고정된 키가 없습니다: 'haven pin update'로 키를 받아 오세요"))
        }
        return PinnedTransport(pin: pin)
    }

    /// The API of this replica's server, with its token, over ``transport()``: what a
    /// ``SyncEngine`` syncs through.
    ///
    /// For example:
    /// ```swift
    /// let engine = SyncEngine(replica: replica, api: try replica.settings().serverAPI())
    /// ```
    ///
    /// - Throws: ``ClientError`` when the link's rules refuse the server's address.
    public func serverAPI() throws -> ServerAPI {
        ServerAPI(server: server, token: token, transport: try transport())
    }
}
