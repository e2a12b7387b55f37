import HavenCore
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import ServiceLifecycle

/// Builds the whole server around an opened store: the HTTP application and the services it runs
/// (the store itself and, when configured, scheduled compaction). What `serve` runs and what
/// tests drive.
///
/// The store runs as the application's first service, so it is the last to stop: on graceful
/// shutdown the server finishes its requests, a compaction under way finishes, and only then
/// does the store close its database.
///
/// Time comes in two ways, both injected: `clock` reads the wall (stamps, expiry, retention),
/// `waitClock` measures waits (long-polls, the compaction schedule), so tests move either.
///
/// - Parameters:
///   - compaction: when to compact while serving; nil for never.
///   - metrics: where request and sync metrics are counted; one per application.
///   - onListening: called with the bound port once the server accepts connections.
package func buildApplication(
    store: any SyncStore, configuration: ServerConfiguration, logger: Logger,
    clock: @escaping HybridLogicalClock.WallClock = HybridLogicalClock.systemWallClock,
    waitClock: any Clock<Duration> = ContinuousClock(),
    compaction: CompactionService.Configuration? = nil,
    metrics: ServerMetrics = ServerMetrics(),
    onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let log = ChangeLog(storage: store, clock: waitClock)
    var services: [any Service] = [store]
    if let compaction {
        services.append(CompactionService(
                log: log, configuration: compaction, logger: logger, clock: clock, activity: metrics.activity))
    }
    return Application(
        router: buildRouter(
            store: store, configuration: configuration, clock: clock, waitClock: waitClock, metrics: metrics),
        server: try serverBuilder(configuration, clock: clock, logger: logger),
        // No `Server` header: a no-change poll is a few hundred bytes, and 15 of them would say nothing.
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
        services: services,
        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
}

/// HTTP/1.1, inside TLS when the configuration has a certificate.
private func serverBuilder(
    _ configuration: ServerConfiguration, clock: @escaping HybridLogicalClock.WallClock, logger: Logger
) throws -> HTTPServerBuilder {
    let http1 = HTTPServerBuilder.http1(configuration: connectionConfiguration(configuration, clock: clock, logger: logger))
    guard let tls = configuration.tls else { return http1 }
    return try .tls(http1, tlsConfiguration: tls)
}

/// Every connection's timeouts, and the JSON body of the HTTP parser's 400.
private func connectionConfiguration(
    _ configuration: ServerConfiguration, clock: @escaping HybridLogicalClock.WallClock, logger: Logger
) -> HTTP1Channel.Configuration {
    HTTP1Channel.Configuration(
        additionalChannelHandlers: [
            RequestReadTimeoutHandler(
                header: configuration.headerTimeout, body: configuration.bodyTimeout, logger: logger),
            ParserErrorHandler(clock: clock),
        ],
        idleTimeout: TimeAmount(configuration.idleTimeout))
}

/// The routes and middleware of the API: what ``buildApplication(store:configuration:logger:clock:waitClock:compaction:metrics:onListening:)``
/// serves, and what the contract test compares with `docs/openapi.yaml` through `router.routes`.
package func buildRouter(
    store: any SyncStore, configuration: ServerConfiguration,
    clock: @escaping HybridLogicalClock.WallClock = HybridLogicalClock.systemWallClock,
    waitClock: any Clock<Duration> = ContinuousClock(),
    metrics: ServerMetrics = ServerMetrics()
) -> Router<HavenRequestContext> {
    let router = Router(context: HavenRequestContext.self)
    // First, so that it counts the final status of every request, errors included.
    router.add(middleware: RequestMetricsMiddleware(metrics: metrics))
    router.add(middleware: ErrorAndClockMiddleware(clock: clock))
    // Before any work: a client this server no longer speaks to is told to update, and nothing else.
    router.add(middleware: ProtocolVersionMiddleware())
    // Before anything reads a body: a declared length above the limit is refused unread.
    router.add(middleware: RequestLimits(configuration))
    router.add(middleware: CompressionMiddleware())
    let auth = AuthMiddleware(tokens: store, configuration: configuration, clock: clock)
    ObservabilityController(store: store, metrics: metrics).addRoutes(to: router, auth: auth)
    // Bodies are inflated behind authentication: no caller without a valid token makes the server inflate.
    let inflation = RequestInflationMiddleware(maxBodyBytes: configuration.maxBodyBytes)
    let v1 = router.group("v1").add(middleware: auth).add(middleware: AccountFingerprintMiddleware(fingerprints: AccountFingerprints(configuration)))
        .add(middleware: inflation)
    let log = ChangeLog(storage: store, clock: waitClock)
    let sync = SyncController(log: log, configuration: configuration, clock: clock, metrics: metrics, tokens: store)
    sync.addRoutes(to: v1)
    HistoryController(log: log).addRoutes(to: v1)
    PublisherController(store: store).addRoutes(to: v1)
    AccountController(configuration: configuration).addRoutes(to: v1)
    if configuration.console {
        ConsoleController(
            store: store, log: log, writer: sync, configuration: configuration, clock: clock, auth: auth,
            activity: metrics.activity)
            .addRoutes(to: router)
    }
    let media = MediaLibrary(
        storage: store,
        limits: MediaLimits(fileBytes: configuration.mediaFileBytes, quotaBytes: configuration.mediaQuotaBytes))
    MediaController(library: media, clock: clock).addRoutes(to: v1)
    return router
}
