import Logging
import ServiceLifecycle

/// Wakes this process's long-polls when another process commits a push to the same database
/// (several instances on one PostgreSQL database). If listening fails, it tries again every
/// second, and wakes every long-poll after each new start, in case a commit slipped by.
struct CommitListener: Service {
    let store: any SyncStore
    let signal: ChangeSignal
    let logger: Logger

    func run() async throws {
        let signal = self.signal
        await cancelWhenGracefulShutdown {
            var attempt = 0
            while !Task.isCancelled {
                if attempt > 0 { signal.signal() }
                attempt += 1
                do {
                    try await store.listenForCommits { signal.signal() }
                } catch {
                    if Task.isCancelled { break }
                    logger.warning(
                        "listening for other instances' commits failed; retrying in 1 s",
                        metadata: ["error": "\(describeStoreError(error))"])
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
