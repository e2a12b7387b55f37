import Synchronization

/// Bytes sent and received on the wire by one ``ServerAPI`` (bodies only, compressed size),
/// shared by its copies.
public final class TrafficMeter: Sendable {
    /// A reading of the meter.
    public struct Reading: Sendable, Equatable {
        /// Request body bytes, as sent (gzipped where they were).
        public var sent = 0
        /// Response body bytes, as they crossed the wire (`Content-Length`, else the body's size).
        public var received = 0
    }

    private let state = Mutex(Reading())

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
