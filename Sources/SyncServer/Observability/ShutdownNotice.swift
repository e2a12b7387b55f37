import Logging
import ServiceLifecycle

/// Logs the moment graceful shutdown starts (SIGTERM or SIGINT), before the server stops
/// accepting connections and finishes the requests in flight.
///
/// Put it last in the service group: shutdown reaches services in reverse order, so it speaks
/// first and returns at once.
struct ShutdownNotice: Service {
    let logger: Logger

    func run() async throws {
        try await gracefulShutdown()
        logger.info("shutting down: no new connections, finishing requests in flight")
    }
}
