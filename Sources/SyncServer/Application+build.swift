import HavenCore
import Hummingbird
import Logging
import NIOCore

/// Builds the HTTP application around a store: what `serve` runs and what tests drive.
///
/// - Parameters:
///   - metrics: where request and sync metrics are counted; one per application.
///   - onListening: called with the bound port once the server accepts connections.
public func buildApplication(
    store: any SyncStore, configuration: ServerConfiguration, logger: Logger,
    clock: @escaping @Sendable () -> UInt64 = HybridLogicalClock.systemWallClock,
    metrics: ServerMetrics = ServerMetrics(),
    onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let signal = ChangeSignal()
    let router = buildRouter(store: store, configuration: configuration, clock: clock, metrics: metrics, signal: signal)
    return Application(
        router: router,
        // No `Server` header: a no-change poll is a few hundred bytes, and 15 of them would say nothing.
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
        services: [CommitListener(store: store, signal: signal, logger: logger)],
        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
}

/// The routes and middleware of the API: what ``buildApplication(store:configuration:logger:clock:metrics:onListening:)``
/// serves, and what the contract test compares with `docs/openapi.yaml` through `router.routes`.
public func buildRouter(
    store: any SyncStore, configuration: ServerConfiguration,
    clock: @escaping @Sendable () -> UInt64 = HybridLogicalClock.systemWallClock,
    metrics: ServerMetrics = ServerMetrics(), signal: ChangeSignal = ChangeSignal()
) -> Router<HavenRequestContext> {
    let router = Router(context: HavenRequestContext.self)
    // First, so that it counts the final status of every request, errors included.
    router.add(middleware: RequestMetricsMiddleware(metrics: metrics))
    router.add(middleware: ErrorAndClockMiddleware(clock: clock))
    // Before anything reads a body: a declared length above the limit is refused unread.
    router.add(middleware: RequestLimits(configuration))
    router.add(middleware: CompressionMiddleware())
    let auth = AuthMiddleware(store: store, configuration: configuration, clock: clock)
    ObservabilityController(store: store, metrics: metrics).addRoutes(to: router, auth: auth)
    // Bodies are inflated behind authentication: no caller without a valid token makes the server inflate.
    let inflation = RequestInflationMiddleware(maxBodyBytes: configuration.maxBodyBytes)
    let v1 = router.group("v1").add(middleware: auth).add(middleware: inflation)
    SyncController(store: store, configuration: configuration, clock: clock, signal: signal, metrics: metrics).addRoutes(to: v1)
    return router
}
