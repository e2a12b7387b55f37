import ArgumentParser
import Foundation
import HavenCore
import HavenTrust
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `haven-server serve`: answers sync requests until SIGTERM or SIGINT, then finishes the
/// requests in flight and closes the database.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the sync API.",
        discussion: "Every option can also be set by its environment variable: HAVEN_DATABASE, HAVEN_HOST, HAVEN_PORT, HAVEN_RETENTION, HAVEN_COMPACT_EVERY, HAVEN_TLS_CERTIFICATE, HAVEN_TLS_KEY, HAVEN_REVIEW, HAVEN_NO_CONSOLE.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup(title: "Limits") var limits: LimitOptions
    @OptionGroup(title: "Timeouts") var timeouts: TimeoutOptions
    @OptionGroup(title: "HTTPS") var tls: TLSOptions
    @Option(help: "Address to listen on.") var host: String = ProcessEnvironment.value("HAVEN_HOST") ?? "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).")
    var port: Int = ProcessEnvironment.value("HAVEN_PORT").flatMap(Int.init) ?? 8080
    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = ProcessEnvironment.value("HAVEN_LOG_LEVEL") ?? "info"
    @Option(help: "Keep deletes and superseded changes this long before compaction purges them (HAVEN_RETENTION).")
    var retention: Lifetime = .environment("HAVEN_RETENTION", default: "30d")
    @Option(help: "Compact at start and then this often (HAVEN_COMPACT_EVERY).")
    var compactEvery: Lifetime = .environment("HAVEN_COMPACT_EVERY", default: "1h")
    @Option(
        help: """
            Who publishes: 'two' (default), an editor or admin other than a record's last editor approves it; \
            'single', editors and admins sign off their own work, for small teams (HAVEN_REVIEW).
            """)
    var review: String = ProcessEnvironment.value("HAVEN_REVIEW") ?? ReviewPolicy.two.rawValue
    @Flag(help: "Do not serve the editors' console at /console (HAVEN_NO_CONSOLE=1).")
    var noConsole = ProcessEnvironment.value("HAVEN_NO_CONSOLE") == "1"
    @Option(
        help:
            "On SIGTERM or SIGINT, wait this long for requests in flight, then cancel the rest (HAVEN_SHUTDOWN_GRACE).")
    var shutdownGrace: Lifetime = .environment("HAVEN_SHUTDOWN_GRACE", default: "30s")

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error")
        }
        try Lifetime.validateEnvironment("HAVEN_RETENTION")
        try Lifetime.validateEnvironment("HAVEN_COMPACT_EVERY")
        try Lifetime.validateEnvironment("HAVEN_SHUTDOWN_GRACE")
        try retention.validate(option: "--retention")
        try compactEvery.validate(option: "--compact-every")
        try shutdownGrace.validate(option: "--shutdown-grace")
        guard ReviewPolicy(rawValue: review) != nil else {
            throw ValidationError("--review must be two or single (is '\(review.prefix(40))')")
        }
    }

    func run() async throws {
        var logger = Logger(label: "haven-server")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let store = try await database.openStore(logger: logger)
        var configuration = ServerConfiguration(host: host, port: port)
        limits.apply(to: &configuration)
        configuration.review = ReviewPolicy(rawValue: review) ?? .two
        configuration.console = !noConsole
        timeouts.apply(to: &configuration)
        let https = try tls.load()
        configuration.tls = https?.configuration
        let scheme = https == nil ? "http" : "https"
        if let https {
            // What clients pin (haven init --pin): not secret, and the admin hands it to field staff.
            FileHandle.standardError.write(Data("haven-server: TLS key \(https.pin)\n".utf8))
        }
        let app = try buildApplication(
            store: store, configuration: configuration, logger: logger,
            compaction: .init(retention: retention.milliseconds, interval: .milliseconds(compactEvery.milliseconds)),
            onListening: { [host] port in
                // What clients pin (haven init --publisher-key), or that nothing is signed.
                let keys = (try? await store.signingKeys()) ?? []
                FileHandle.standardError.write(
                    Data(
                        (keys.last.map { "haven-server: publisher key \($0.key.publicKey.id)\n" }
                            ?? "haven-server: no signing key: published content is not signed; create one with 'haven-server signing-key create'\n").utf8))
                // Scripts and tests wait for this line; it is the only thing serve prints on stdout.
                FileHandle.standardOutput.write(Data("haven-server listening on \(scheme)://\(host):\(port)\n".utf8))
            })
        var lifecycle = ServiceGroupConfiguration(
            services: [
                .init(service: app),
                .init(service: ShutdownNotice(logger: logger), successTerminationBehavior: .ignore),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // A client that never finishes sending its body must not hold the shutdown forever.
        lifecycle.maximumGracefulShutdownDuration = .milliseconds(shutdownGrace.milliseconds)
        // Every request is answered before the store, the application's first service, closes
        // its database: the SQLite WAL checkpointed, or the PostgreSQL connections.
        do {
            try await ServiceGroup(configuration: lifecycle).run()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw CommandFailure(
                "port \(port) is already in use on \(host): another haven-server (scripts/run?) may be running; pass --port")
        }
        logger.info("stopped: requests finished, database closed")
    }
}

/// Reading configuration from the environment.
enum ProcessEnvironment {
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}
