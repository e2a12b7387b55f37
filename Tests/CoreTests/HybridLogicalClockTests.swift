import HavenCore
import PropertyBased
import Testing
import TestSupport

struct HybridLogicalClockTests {
    private static let start: UInt64 = 1_700_000_000_000
    private static let hour: Int64 = 3_600_000
    private let local = ReplicaID("local")!

    private func makeClock(_ wall: ManualClock, last: Timestamp? = nil) -> HybridLogicalClock {
        HybridLogicalClock(replica: local, last: last, wallClock: wall.read)
    }

    @Test func nowFollowsWallTimeWhenItMovesForwards() {
        // Given
        let wall = ManualClock(Self.start)
        var clock = makeClock(wall)

        // When / Then
        #expect(clock.now() == stamp(Self.start, 0, "local"))
        wall.advance(by: 5)
        #expect(clock.now() == stamp(Self.start + 5, 0, "local"))
        #expect(clock.last == stamp(Self.start + 5, 0, "local"))
    }

    @Test func nowCountsWithinOneMillisecond() {
        let wall = ManualClock(Self.start)
        var clock = makeClock(wall)

        let stamps = (0..<4).map { _ in clock.now() }

        #expect(stamps == (0..<4).map { stamp(Self.start, UInt16($0), "local") })
    }

    @Test func nowStrictlyIncreasesWhenWallTimeJumpsBackwardsByHours() {
        // Given a clock that has issued a stamp
        let wall = ManualClock(Self.start)
        var clock = makeClock(wall)
        let before = clock.now()

        // When the wall clock is set back three hours
        wall.advance(by: -3 * Self.hour)
        let after = (0..<3).map { _ in clock.now() }

        // Then the stamps keep the old time and count up
        #expect(after == [stamp(Self.start, 1, "local"), stamp(Self.start, 2, "local"), stamp(Self.start, 3, "local")])
        #expect(before < after[0])

        // And once wall time passes the old time again, it takes over with counter zero
        wall.now = Self.start + 1
        #expect(clock.now() == stamp(Self.start + 1, 0, "local"))
    }

    @Test func receiveOrdersLaterStampsAfterARemoteStampAhead() throws {
        // Given a remote stamp five seconds ahead, within the allowed drift
        let wall = ManualClock(Self.start)
        var clock = makeClock(wall)
        _ = clock.now()
        let remote = stamp(Self.start + 5_000, 7, "remote")

        // When
        try clock.receive(remote)
        let next = clock.now()

        // Then
        #expect(next > remote)
        #expect(next == stamp(Self.start + 5_000, 9, "local"))
    }

    @Test func receiveOfAnOlderStampKeepsLocalOrder() throws {
        let wall = ManualClock(Self.start)
        var clock = makeClock(wall)
        let mine = clock.now()

        try clock.receive(stamp(Self.start - 60_000, 40, "remote"))

        #expect(clock.now() == stamp(Self.start, 2, "local"))
        #expect(clock.last > mine)
    }

    @Test func receiveOfTheSameMillisecondCountsPastBothCounters() throws {
        // Given a local clock at counter 3 and a remote stamp at counter 10 in the same millisecond
        let wall = ManualClock(Self.start)
        var clock = makeClock(wall, last: stamp(Self.start, 3, "local"))

        // When
        try clock.receive(stamp(Self.start, 10, "remote"))

        // Then
        #expect(clock.last == stamp(Self.start, 11, "local"))
    }

    @Test func receiveWhenWallTimeIsAheadOfBothStartsAtCounterZero() throws {
        let wall = ManualClock(Self.start)
        var clock = makeClock(wall, last: stamp(Self.start - 10, 3, "local"))

        try clock.receive(stamp(Self.start - 5, 10, "remote"))

        #expect(clock.last == stamp(Self.start, 0, "local"))
    }

    @Test func receiveRefusesAStampBeyondMaxDriftAndLeavesTheClockUnchanged() {
        // Given a clock that has issued a stamp
        let wall = ManualClock(Self.start)
        var clock = makeClock(wall)
        _ = clock.now()
        let before = clock.last
        let drift = HybridLogicalClock.defaultMaxDrift
        let remote = stamp(Self.start + drift + 1, 0, "remote")

        // When a stamp just beyond ten minutes ahead arrives
        #expect(throws: ClockError.ahead(remote, by: drift + 1)) { try clock.receive(remote) }

        // Then nothing moved
        #expect(clock.last == before)
        #expect(clock.now() == stamp(Self.start, 1, "local"))
    }

    @Test func receiveAcceptsAStampExactlyAtMaxDrift() throws {
        let wall = ManualClock(Self.start)
        var clock = makeClock(wall)
        let remote = stamp(Self.start + HybridLogicalClock.defaultMaxDrift, 0, "remote")

        try clock.receive(remote)

        #expect(clock.now() > remote)
    }

    @Test func customMaxDriftIsHonoured() throws {
        let wall = ManualClock(Self.start)
        var clock = HybridLogicalClock(replica: local, maxDrift: 1_000, wallClock: wall.read)

        try clock.receive(stamp(Self.start + 1_000, 0, "remote"))
        #expect(throws: ClockError.ahead(stamp(Self.start + 1_001, 0, "remote"), by: 1_001)) {
            try clock.receive(stamp(Self.start + 1_001, 0, "remote"))
        }
    }

    @Test func unlimitedMaxDriftAcceptsStampsAhead() throws {
        // Given a drift so large that wall time plus drift overflows
        let wall = ManualClock(Self.start)
        var clock = HybridLogicalClock(replica: local, maxDrift: .max, wallClock: wall.read)
        let remote = stamp(Self.start + 1, 0, "remote")

        // When / Then it must not wrap around and refuse everything
        try clock.receive(remote)
        #expect(clock.now() > remote)
    }

    @Test func aheadErrorSaysHowFarAheadInSeconds() {
        let error = ClockError.ahead(stamp(1, 0, "remote"), by: 754_321)
        #expect(
            error.description == "stamp 000000000001-0000-remote is 754 s ahead of this clock, beyond the allowed drift"
        )
    }

    @Test func counterOverflowCarriesIntoTheNextMillisecond() throws {
        // Given a clock whose counter is full, with wall time not ahead
        let wall = ManualClock(Self.start)
        var clock = makeClock(wall, last: stamp(Self.start, .max, "local"))

        // When / Then
        #expect(clock.now() == stamp(Self.start + 1, 0, "local"))
        #expect(clock.now() == stamp(Self.start + 1, 1, "local"))

        // And receiving a full counter carries too
        var other = makeClock(wall, last: stamp(Self.start, 3, "local"))
        try other.receive(stamp(Self.start, .max, "remote"))
        #expect(other.last == stamp(Self.start + 1, 0, "local"))
    }

    @Test func clockRecreatedFromPersistedLastNeverIssuesASmallerStamp() {
        // Given a clock that ran while the wall clock was an hour fast
        let wall = ManualClock(Self.start + UInt64(Self.hour))
        var clock = makeClock(wall)
        let issued = clock.now()

        // When the device restarts with the wall clock corrected
        wall.advance(by: -Self.hour)
        var restarted = makeClock(wall, last: clock.last)

        // Then
        #expect(restarted.now() == stamp(Self.start + UInt64(Self.hour), 1, "local"))
        #expect(restarted.now() > issued)
    }

    @Test func recreatedClockStampsWithItsOwnReplica() {
        let wall = ManualClock(Self.start)
        var clock = makeClock(wall, last: stamp(Self.start + 10, 4, "someoneelse"))

        #expect(clock.last == stamp(Self.start + 10, 4, "local"))
        #expect(clock.now() == stamp(Self.start + 10, 5, "local"))
    }

    @Test func aNewClockStartsAtZero() {
        let clock = makeClock(ManualClock(0))
        #expect(clock.last == stamp(0, 0, "local"))
    }

    /// One step of a random clock history.
    private enum Operation: CustomStringConvertible {
        case now
        case receive(offset: Int64, counter: UInt16)
        case jump(Int64)
        case restart

        var description: String {
            switch self {
            case .now: "now"
            case .receive(let offset, let counter): "receive(\(offset),\(counter))"
            case .jump(let delta): "jump(\(delta))"
            case .restart: "restart"
            }
        }
    }

    private static let operation = zip(Gen.int(in: 0...9), Gen.int64(in: -900_000...900_000), Gen.uint16())
        .map { kind, amount, counter -> Operation in
            switch kind {
            case 0...3: .now
            case 4, 5: .receive(offset: amount, counter: counter)  // up to 15 minutes either way: some too far ahead
            case 6: .jump(abs(amount) % 1_000)
            case 7: .jump(amount < 0 ? -hour : hour)
            case 8: .jump(-(abs(amount) % 1_000))
            default: .restart
            }
        }

    @Test func issuedStampsStrictlyIncreaseAcrossJumpsReceivesAndRestarts() async {
        await propertyCheck(count: 300, input: Self.operation.array(of: 1...80)) { operations in
            // Given
            let wall = ManualClock(Self.start)
            var clock = makeClock(wall)
            var issued: [Timestamp] = []
            var largestAccepted: Timestamp?

            // When
            for operation in operations {
                switch operation {
                case .now:
                    issued.append(clock.now())
                    // Then every stamp orders after every stamp received before it
                    if let largestAccepted { #expect(issued.last! > largestAccepted) }
                case .receive(let offset, let counter):
                    let remote = stamp(UInt64(Int64(wall.now) + offset), counter, "remote")
                    let before = clock.last
                    do {
                        try clock.receive(remote)
                        largestAccepted = max(largestAccepted ?? remote, remote)
                        #expect(clock.last > remote && clock.last > before)
                    } catch {
                        #expect(offset > Int64(HybridLogicalClock.defaultMaxDrift))
                        #expect(clock.last == before)
                    }
                case .jump(let delta):
                    wall.advance(by: delta)
                case .restart:
                    clock = makeClock(wall, last: clock.last)
                }
            }

            // Then
            #expect(zip(issued, issued.dropFirst()).allSatisfy { $0 < $1 }, "issued: \(issued)")
        }
    }
}
