import ArgumentParser
import Foundation
import HavenCore
import Hummingbird
import Logging

/// `haven-server serve`: answers sync requests until SIGTERM or SIGINT, then finishes the
/// requests in flight and closes the database.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the sync API.",
        discussion: "Every option can also be set by its environment variable: HAVEN_DATABASE, HAVEN_HOST, HAVEN_PORT.")

    @OptionGroup var database: DatabaseOptions
    @Option(help: "Address to listen on.") var host: String = ProcessEnvironment.value("HAVEN_HOST") ?? "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).")
    var port: Int = ProcessEnvironment.value("HAVEN_PORT").flatMap(Int.init) ?? 8080
    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = ProcessEnvironment.value("HAVEN_LOG_LEVEL") ?? "info"

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error")
        }
    }

    func run() async throws {
        var logger = Logger(label: "haven-server")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let store = try database.openStore()
        let configuration = ServerConfiguration(host: host, port: port)
        let app = buildApplication(
            store: store, configuration: configuration, logger: logger,
            onListening: { [host] port in
            // Scripts and tests wait for this line; it is the only thing serve prints on stdout.
            FileHandle.standardOutput.write(Data("haven-server listening on http://\(host):\(port)\n".utf8))
        })
        try await app.runService()
    }
}

/// Reading configuration from the environment.
enum ProcessEnvironment {
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}
