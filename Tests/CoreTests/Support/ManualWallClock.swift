import Foundation
import HavenCore

/// A wall clock that tests set and move by hand, in either direction.
///
/// For example:
/// ```swift
/// let wall = ManualWallClock(1_700_000_000_000)
/// var clock = HybridLogicalClock(replica: replica, wallClock: wall.read)
/// wall.advance(by: -3_600_000)  // an hour backwards
/// ```
final class ManualWallClock: @unchecked Sendable {
    private let lock = NSLock()
    private var milliseconds: UInt64

    init(_ milliseconds: UInt64) {
        self.milliseconds = milliseconds
    }

    /// The current reading, in milliseconds since 1970.
    var now: UInt64 {
        get { lock.withLock { milliseconds } }
        set { lock.withLock { milliseconds = newValue } }
    }

    /// Moves the clock by `delta` milliseconds; negative moves it backwards.
    func advance(by delta: Int64) {
        lock.withLock { milliseconds = UInt64(Int64(milliseconds) + delta) }
    }

    /// The source to hand to ``HybridLogicalClock``.
    var read: HybridLogicalClock.WallClock {
        { [self] in now }
    }

    /// A source that reads this clock shifted by `offset` milliseconds, like a device whose clock is wrong.
    func skewed(by offset: Int64) -> HybridLogicalClock.WallClock {
        { [self] in UInt64(Int64(now) + offset) }
    }
}
