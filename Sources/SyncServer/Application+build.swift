import HavenCore
import Hummingbird
import Logging
import NIOCore

/// Builds the HTTP application around a store: what `serve` runs and what tests drive.
///
/// - Parameters:
///   - onListening: called with the bound port once the server accepts connections.
public func buildApplication(
    store: any SyncStore, configuration: ServerConfiguration, logger: Logger,
    clock: @escaping @Sendable () -> UInt64 = HybridLogicalClock.systemWallClock,
    onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = Router(context: HavenRequestContext.self)
    router.add(middleware: ErrorAndClockMiddleware(clock: clock))
    router.get("healthz") { _, _ in jsonResponse(["status": "ok"]) }
    let v1 = router.group("v1").add(middleware: AuthMiddleware(store: store, clock: clock))
    SyncController(store: store, configuration: configuration, clock: clock).addRoutes(to: v1)
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "haven"),
        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
}
