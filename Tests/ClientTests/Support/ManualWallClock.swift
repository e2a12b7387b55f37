import Foundation
import HavenCore

/// A wall clock that tests set by hand, so that time can stand still or go backwards.
final class ManualWallClock: @unchecked Sendable {
    private let lock = NSLock()
    private var milliseconds: UInt64

    init(_ milliseconds: UInt64 = Fixtures.epoch) {
        self.milliseconds = milliseconds
    }

    /// The current reading.
    var now: UInt64 {
        lock.lock()
        defer { lock.unlock() }
        return milliseconds
    }

    /// Sets the reading, earlier or later than before.
    func set(_ milliseconds: UInt64) {
        lock.lock()
        defer { lock.unlock() }
        self.milliseconds = milliseconds
    }

    /// The clock as the replica reads it.
    var source: HybridLogicalClock.WallClock { { self.now } }
}
