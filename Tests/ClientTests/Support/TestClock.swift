import Synchronization

@testable import HavenClient

/// A ``SyncClock`` that never waits: `sleep` moves `now` forward and records how long it was
/// asked to wait, so backoff schedules run instantly and can be checked exactly.
final class TestClock: Sendable {
    private struct State {
        var now = 0.0
        var sleeps: [Double] = []
    }

    private let state = Mutex(State())

    /// Seconds since the test began.
    var now: Double { state.withLock { $0.now } }
    /// Every wait asked for, in order.
    var sleeps: [Double] { state.withLock { $0.sleeps } }

    /// Moves time forward without a sleep (a slow answer).
    func advance(by seconds: Double) {
        state.withLock { $0.now += seconds }
    }

    var syncClock: SyncClock {
        SyncClock(
            now: { self.now },
            sleep: { seconds in
                try Task.checkCancellation()
                self.state.withLock {
                    $0.sleeps.append(seconds)
                    $0.now += seconds
                }
            })
    }
}
