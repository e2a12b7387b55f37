import HavenCore
import Synchronization

/// Bytes sent and received on the wire by one ``ServerAPI`` (bodies only, compressed size),
/// shared by its copies; and the last account fingerprint its answers carried.
public final class TrafficMeter: Sendable {
    /// A reading of the meter.
    public struct Reading: Sendable, Equatable {
        /// Request body bytes, as sent (gzipped where they were).
        public var sent = 0
        /// Response body bytes, as they crossed the wire (`Content-Length`, else the body's size).
        public var received = 0
    }

    private let state = Mutex(Reading())
    private let fingerprint = Mutex<String?>(nil)

    /// The `Haven-Account` header of the last answer that carried one (HavenCore's `Account.fingerprint`):
    /// when it is the one the replica holds, the account need not be asked for again.
    public var accountFingerprint: String? { fingerprint.withLock { $0 } }

    /// Keeps the fingerprint `response` carries, if it is one.
    func heard(_ response: HTTPResponse) {
        guard let value = response.headers[Account.fingerprintHeader.lowercased()], Account.isFingerprint(value) else { return }
        fingerprint.withLock { $0 = value }
    }

    /// A meter at zero.
    public init() {}

    /// The totals so far.
    public var reading: Reading { state.withLock { $0 } }

    func count(sent: Int, received: Int) {
        state.withLock {
            $0.sent += sent
            $0.received += received
        }
    }
}
