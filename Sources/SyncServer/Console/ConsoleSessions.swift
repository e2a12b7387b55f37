import Crypto
import Foundation
import HavenCore
import Synchronization

/// The console's signed-in sessions, in memory: a session is a random id in an `HttpOnly`
/// cookie, standing for the token it was opened with, until it expires, its person signs out,
/// or the server restarts.
///
/// A session holds the token's hash, never the token, and the token is looked up again on every
/// request (``ConsoleController/signedIn(_:)``): revoking the token, or its expiry, ends the
/// session at once. Each session has its own form key, which every form posts back (CSRF).
final class ConsoleSessions: Sendable {
    /// One session.
    struct Session: Sendable {
        /// The SHA-256 of the token it was opened with.
        let tokenHash: Data
        /// The value every form of the session carries and every post must send back.
        let formKey: String
        /// Milliseconds since 1970.
        let expiresAt: UInt64
    }

    /// How long a session lasts: a working day.
    static let lifetime: UInt64 = 8 * 3_600_000
    /// The most sessions kept at once; the oldest go first beyond it.
    static let capacity = 10_000

    /// By the SHA-256 of the session id: a memory dump holds no cookie.
    private let sessions = Mutex<[Data: Session]>([:])

    /// Opens a session for a token's hash; returns its id, for the cookie.
    func open(tokenHash: Data, now: UInt64) -> (id: String, session: Session) {
        let id = TokenSecret.generate()
        let session = Session(tokenHash: tokenHash, formKey: TokenSecret.generate(), expiresAt: now + Self.lifetime)
        sessions.withLock { sessions in
            if sessions.count >= Self.capacity {
                sessions = sessions.filter { $0.value.expiresAt > now }
                while sessions.count >= Self.capacity, let oldest = sessions.min(by: { $0.value.expiresAt < $1.value.expiresAt }) {
                    sessions[oldest.key] = nil
                }
            }
            sessions[Self.key(id)] = session
        }
        return (id, session)
    }

    /// The session with this id, unless it expired (then it is forgotten).
    func session(_ id: String, now: UInt64) -> Session? {
        sessions.withLock { sessions in
            let key = Self.key(id)
            guard let session = sessions[key] else { return nil }
            guard session.expiresAt > now else {
                sessions[key] = nil
                return nil
            }
            return session
        }
    }

    /// Ends the session with this id, if there is one.
    func end(_ id: String) {
        _ = sessions.withLock { $0.removeValue(forKey: Self.key(id)) }
    }

    private static func key(_ id: String) -> Data { Data(SHA256.hash(data: Data(id.utf8))) }
}
