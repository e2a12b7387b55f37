import Synchronization

/// Slows token guessing without locking anyone out: after ``State/limit`` failed
/// authentications from one client address within ``State/window``, every request from that
/// address that fails authentication is refused with 429 and `Retry-After` for a whole window,
/// instead of 401. A valid token is never refused: many people share one address behind an
/// office's or a carrier's NAT, and one device with a bad token must not lock them out.
///
/// Tokens are 256 random bits, so guessing one is hopeless anyway; the throttle tells a client
/// that keeps failing (a guesser, or a device with a revoked token on a retry loop) to back off,
/// and keeps the log quiet.
///
/// Rules:
/// 1. A failure is a request that presented an `Authorization` header the server did not accept;
///    a request without one guesses nothing and is not counted.
/// 2. Failures are counted in a window that opens at the first one; once a window has passed
///    the count starts again.
/// 3. The failure that reaches the limit blocks the address for one window from that moment.
///    While blocked, a request whose token fails is answered 429 and not counted; the token is
///    looked up first, so a valid one passes.
/// 4. At most ``State/capacity`` addresses are remembered; when full, addresses whose window has
///    passed are forgotten first, then the unblocked one whose window opened first. A blocked
///    address is forgotten only when every address is blocked.
final class FailedAuthThrottle: Sendable {
    private let state: Mutex<State>

    /// - Parameters:
    ///   - limit: failures that block an address; 0 turns throttling off.
    ///   - window: milliseconds.
    ///   - capacity: the most addresses remembered at once.
    init(limit: Int, window: UInt64, capacity: Int = 10_000) {
        state = Mutex(State(limit: limit, window: window, capacity: capacity))
    }

    /// How many milliseconds `address` stays blocked, or nil when it is not.
    func retryAfter(for address: String, now: UInt64) -> UInt64? {
        state.withLock { $0.retryAfter(for: address, now: now) }
    }

    /// Counts one failed authentication; returns true when it blocks the address.
    @discardableResult
    func recordFailure(from address: String, now: UInt64) -> Bool {
        state.withLock { $0.recordFailure(from: address, now: now) }
    }

    /// The exact logic, free of locks and clocks: times are milliseconds passed in.
    struct State: Sendable {
        struct Entry: Sendable, Equatable {
            /// When the current counting window opened.
            var windowStart: UInt64
            var failures: Int
            /// Refused until then; 0 when not blocked.
            var blockedUntil: UInt64

            /// The first moment this entry no longer matters.
            func expiry(window: UInt64) -> UInt64 { max(windowStart &+ window, blockedUntil) }
        }

        let limit: Int
        let window: UInt64
        let capacity: Int
        private(set) var entries: [String: Entry] = [:]

        init(limit: Int, window: UInt64, capacity: Int) {
            self.limit = limit
            self.window = window
            self.capacity = max(1, capacity)
        }

        func retryAfter(for address: String, now: UInt64) -> UInt64? {
            guard limit > 0, let entry = entries[address], entry.blockedUntil > now else { return nil }
            return entry.blockedUntil - now
        }

        mutating func recordFailure(from address: String, now: UInt64) -> Bool {
            guard limit > 0 else { return false }
            var entry = entries[address] ?? Entry(windowStart: now, failures: 0, blockedUntil: 0)
            if entries[address] == nil { makeRoom(now: now) }
            if now >= entry.windowStart &+ window || now < entry.windowStart {
                entry.windowStart = now
                entry.failures = 0
            }
            entry.failures += 1
            let blocks = entry.failures >= limit
            if blocks {
                entry.blockedUntil = now &+ window
                entry.windowStart = now
                entry.failures = 0
            }
            entries[address] = entry
            return blocks
        }

        /// Frees one place when the table is full.
        private mutating func makeRoom(now: UInt64) {
            guard entries.count >= capacity else { return }
            entries = entries.filter { $0.value.expiry(window: window) > now }
            guard entries.count >= capacity else { return }
            let unblocked = entries.filter { $0.value.blockedUntil <= now }
            let victim =
                unblocked.isEmpty
                ? entries.min { $0.value.blockedUntil < $1.value.blockedUntil }
                : unblocked.min { $0.value.windowStart < $1.value.windowStart }
            if let victim { entries[victim.key] = nil }
        }
    }
}
