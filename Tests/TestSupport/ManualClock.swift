import Synchronization

/// A clock that moves only when told: the one clock tests inject, wherever time is read.
///
/// It reads milliseconds since 1970, for a hybrid logical clock's or a server's wall time, and
/// can go backwards like a device whose clock is reset. ``sleep(seconds:)`` waits for nothing:
/// it moves the clock forward and records the wait, so that backoff schedules run at once and
/// can be checked exactly.
///
/// For example:
/// ```swift
/// let wall = ManualClock(1_700_000_000_000)
/// var clock = HybridLogicalClock(replica: replica, wallClock: wall.read)
/// wall.advance(by: -3_600_000)  // an hour backwards
/// ```
public final class ManualClock: Sendable {
    private struct State {
        var milliseconds: UInt64
        var sleeps: [Double] = []
    }

    private let state: Mutex<State>

    /// A clock reading `milliseconds`.
    public init(_ milliseconds: UInt64) {
        state = Mutex(State(milliseconds: milliseconds))
    }

    /// The current reading, in milliseconds; setting it moves the clock either way.
    public var now: UInt64 {
        get { state.withLock { $0.milliseconds } }
        set { state.withLock { $0.milliseconds = newValue } }
    }

    /// Moves the clock by `delta` milliseconds; negative moves it backwards.
    public func advance(by delta: Int64) {
        state.withLock { $0.milliseconds = UInt64(Int64($0.milliseconds) + delta) }
    }

    /// The reading as a wall-time source (`HybridLogicalClock.WallClock`, a server's clock).
    public var read: @Sendable () -> UInt64 {
        { [self] in now }
    }

    /// A source that reads this clock shifted by `offset` milliseconds, like a device whose clock is wrong.
    public func skewed(by offset: Int64) -> @Sendable () -> UInt64 {
        { [self] in UInt64(Int64(now) + offset) }
    }

    /// A sleep that does not wait: moves the clock `seconds` forward (to the millisecond) and
    /// records them.
    public func sleep(seconds: Double) {
        state.withLock {
            $0.sleeps.append(seconds)
            $0.milliseconds += UInt64((seconds * 1000).rounded())
        }
    }

    /// Every ``sleep(seconds:)`` asked for, in order.
    public var sleeps: [Double] { state.withLock { $0.sleeps } }
}
