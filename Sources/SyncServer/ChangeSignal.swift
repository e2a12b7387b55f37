import Synchronization

/// Wakes long-polling pulls as soon as a push commits.
///
/// A generation counter closes the race between a pull that found nothing and a push that
/// commits before the pull starts waiting: the pull reads the generation *before* it queries,
/// and `wait(after:)` returns at once if the generation has moved since.
public final class ChangeSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Waiters created but not yet registered.
        var starting: Set<UInt64> = []
        /// Waiters whose timeout fired before they registered.
        var abandoned: Set<UInt64> = []
    }

    private let state = Mutex(State())

    /// A signal no pull waits on yet.
    public init() {}

    /// Increases with every signal.
    public var generation: UInt64 { state.withLock { $0.generation } }

    /// How many calls to ``wait(after:timeout:clock:)`` are waiting for a signal now: what shows
    /// that a long-poll is under way, for tests.
    public var waiting: Int { state.withLock { $0.waiters.count } }

    /// Wakes every waiter: something was committed.
    public func signal() {
        let waiters = state.withLock { state in
            state.generation += 1
            defer { state.waiters = [:] }
            return state.waiters
        }
        for waiter in waiters.values { waiter.resume() }
    }

    /// Returns once a signal has come after `generation`, or when `timeout` has passed on `clock`.
    public func wait(after generation: UInt64, timeout: Duration, clock: any Clock<Duration> = ContinuousClock()) async {
        let id = state.withLock { state in
            state.nextWaiter += 1
            state.starting.insert(state.nextWaiter)
            return state.nextWaiter
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForSignal(id: id, after: generation) }
            group.addTask { try? await clock.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
            self.abandon(id)
        }
    }

    private func waitForSignal(id: UInt64, after generation: UInt64) async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state in
                state.starting.remove(id)
                if state.generation > generation || state.abandoned.remove(id) != nil { return true }
                state.waiters[id] = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    private func abandon(_ id: UInt64) {
        let waiter = state.withLock { state in
            if state.starting.remove(id) != nil { state.abandoned.insert(id) }
            return state.waiters.removeValue(forKey: id)
        }
        waiter?.resume()
    }
}
