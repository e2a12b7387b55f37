/// Time as the sync engine sees it: a monotonic reading in seconds and a way to wait.
///
/// Tests inject a clock whose `sleep` only moves `now` forward, so that backoff schedules run
/// instantly and can be checked to the millisecond.
public struct SyncClock: Sendable {
    /// Seconds since an arbitrary origin; never goes backwards.
    public var now: @Sendable () -> Double
    /// Waits this many seconds, or throws `CancellationError` when the task is cancelled.
    public var sleep: @Sendable (Double) async throws -> Void

    /// A clock from a reading and a wait.
    public init(now: @escaping @Sendable () -> Double, sleep: @escaping @Sendable (Double) async throws -> Void) {
        self.now = now
        self.sleep = sleep
    }

    /// The system's monotonic clock.
    public static let continuous: SyncClock = {
        let origin = ContinuousClock.now
        return SyncClock(
            now: { (ContinuousClock.now - origin).seconds },
            sleep: { seconds in try await Task.sleep(for: .sleep(seconds: seconds)) })
    }()
}

extension Duration {
    /// A wait of `seconds`, rounded up to the millisecond and held to 0…86,400 (a day): a
    /// number from a command line or a server never traps the conversion. NaN waits nothing.
    static func sleep(seconds: Double) -> Duration {
        guard seconds > 0 else { return .zero }
        return .milliseconds(Int64((min(seconds, 86_400) * 1000).rounded(.up)))
    }

    /// The duration in seconds, as a floating-point number.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
