/// A hybrid logical clock (Kulkarni et al., 2014): stamps that follow wall time but never go
/// backwards, and that order every write after the writes its replica had seen
/// (<doc:TheClock>).
///
/// The clock is a plain value. Wall time comes from an injected source so that tests control it,
/// and its state is `last`, which the owner persists: a clock restored from a saved `last`
/// never issues a smaller stamp than before the restart, whatever the wall clock says.
///
/// For example:
/// ```swift
/// var clock = HybridLogicalClock(replica: id, last: savedStamp)
/// let stamp = clock.now()
/// save(clock.last)
/// ```
public struct HybridLogicalClock: Sendable {
    /// A source of wall time in milliseconds since 1970.
    public typealias WallClock = @Sendable () -> UInt64

    /// The system's wall clock.
    public static let systemWallClock: WallClock = { currentMilliseconds() }

    /// How far ahead of local wall time a received stamp may be (default 10 minutes).
    public static let defaultMaxDrift: UInt64 = 10 * 60 * 1000

    /// The replica whose writes this clock stamps.
    public let replica: ReplicaID
    /// The largest stamp issued or received so far; persist it to survive restarts.
    public private(set) var last: Timestamp
    /// The largest distance a remote stamp may be ahead of local wall time, in milliseconds.
    public var maxDrift: UInt64
    private let wallClock: WallClock

    /// Creates a clock that continues after `last`, or starts at zero.
    public init(
        replica: ReplicaID, last: Timestamp? = nil, maxDrift: UInt64 = defaultMaxDrift,
        wallClock: @escaping WallClock = systemWallClock
    ) {
        self.replica = replica
        self.last = last.map { Timestamp(physical: $0.physical, counter: $0.counter, replica: replica) }
            ?? Timestamp(physical: 0, counter: 0, replica: replica)
        self.maxDrift = maxDrift
        self.wallClock = wallClock
    }

    /// Issues a stamp for a local write, larger than every stamp issued or received before.
    public mutating func now() -> Timestamp {
        let wall = min(wallClock(), Timestamp.maxPhysical)
        if wall > last.physical {
            last = Timestamp(physical: wall, counter: 0, replica: replica)
        } else {
            last = successor(physical: last.physical, counter: last.counter)
        }
        return last
    }

    /// Takes in a stamp seen from another replica, so that later local stamps order after it.
    ///
    /// - Throws: ``ClockError/ahead(_:by:)`` when `remote` is more than `maxDrift` ahead of wall
    ///   time; the clock is then left unchanged.
    public mutating func receive(_ remote: Timestamp) throws(ClockError) {
        try Self.checkDrift(remote, wallTime: min(wallClock(), Timestamp.maxPhysical), maxDrift: maxDrift)
        witness(remote)
    }

    /// Takes in a stamp without the drift guard: for stamps already accepted by the server,
    /// which a replica must order its later edits after whatever its own wall clock says.
    public mutating func witness(_ remote: Timestamp) {
        let wall = min(wallClock(), Timestamp.maxPhysical)
        let physical = max(wall, last.physical, remote.physical)
        if physical == last.physical && physical == remote.physical {
            last = successor(physical: physical, counter: max(last.counter, remote.counter))
        } else if physical == last.physical {
            last = successor(physical: physical, counter: last.counter)
        } else if physical == remote.physical {
            last = successor(physical: physical, counter: remote.counter)
        } else {
            last = Timestamp(physical: physical, counter: 0, replica: replica)
        }
    }

    /// Throws when `stamp` is more than `maxDrift` milliseconds ahead of `wallTime`.
    public static func checkDrift(_ stamp: Timestamp, wallTime: UInt64, maxDrift: UInt64) throws(ClockError) {
        if stamp.physical > wallTime, stamp.physical - wallTime > maxDrift {
            throw .ahead(stamp, by: stamp.physical - wallTime)
        }
    }

    /// The next stamp after (physical, counter); a full counter carries into the next millisecond.
    private func successor(physical: UInt64, counter: UInt16) -> Timestamp {
        counter == .max
            ? Timestamp(physical: physical + 1, counter: 0, replica: replica)
            : Timestamp(physical: physical, counter: counter + 1, replica: replica)
    }
}

/// Why a clock refused a stamp.
public enum ClockError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The stamp is ahead of wall time by more than the allowed drift (milliseconds given).
    case ahead(Timestamp, by: UInt64)

    /// What was refused and by how much, in English.
    public var description: String {
        switch self {
        case .ahead(let stamp, let by):
            "stamp \(stamp) is \(by / 1000) s ahead of this clock, beyond the allowed drift"
        }
    }
}
