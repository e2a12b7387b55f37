import TestSupport

@testable import HavenClient

extension ManualClock {
    /// The clock as the sync engine reads it: seconds, and sleeps that wait for nothing but move
    /// the clock and are recorded (``ManualClock/sleeps``).
    var syncClock: SyncClock {
        SyncClock(
            now: { Double(self.now) / 1000 },
            sleep: { seconds in
                try Task.checkCancellation()
                self.sleep(seconds: seconds)
            })
    }
}
