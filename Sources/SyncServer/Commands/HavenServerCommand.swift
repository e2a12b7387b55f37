import ArgumentParser
import Foundation
import Logging

/// `haven-server`: serve the sync API and manage its database.
public struct HavenServerCommand: AsyncParsableCommand {
    /// The `haven-server` command and its subcommands.
    public static let configuration = CommandConfiguration(
        commandName: "haven-server",
        abstract: "The Haven sync server: an append-only change log behind an HTTP API.",
        subcommands: [
            ServeCommand.self, TokenCommand.self, ImportCommand.self, CompactCommand.self, SigningKeyCommand.self,
        ])

    /// A command with no options parsed yet.
    public init() {}
}

/// The database option every subcommand shares: a SQLite file, or a PostgreSQL URL.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "A SQLite database file, or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…] for PostgreSQL (HAVEN_DATABASE).",
            valueName: "path-or-url"),
        transform: { $0 })
    var database: String = ProcessEnvironment.value("HAVEN_DATABASE") ?? "haven.sqlite"

    @Flag(help: "Create the SQLite database file if it does not exist ('import' always may).")
    var create = false

    /// Whether ``database`` names a PostgreSQL database.
    var isPostgres: Bool { PostgresLocation.isPostgresURL(database) }

    func validate() throws {
        if isPostgres {
            do {
                _ = try PostgresLocation(url: database)
            } catch {
                throw ValidationError("--database: \(error)")
            }
        }
    }

    /// Opens the store; `serve` keeps it open until shutdown.
    ///
    /// - Parameters:
    ///   - mayCreate: whether a missing SQLite file may be created even without `--create`.
    ///   - logger: where PostgreSQL's connection pool reports trouble.
    func openStore(
        mayCreate: Bool = false,
        logger: Logger = Logger(label: "haven-server", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws -> any SyncStore {
        // A mistyped path ('haven.sqlit') must not quietly become a new, empty database.
        guard isPostgres || create || mayCreate || FileManager.default.fileExists(atPath: database) else {
            throw CommandFailure("no database at '\(database)': check the path, or pass --create to make a new database")
        }
        do {
            if isPostgres { return try await PostgresSyncStore.open(url: database, logger: logger) }
            return try SQLiteSyncStore(path: database)
        } catch {
            // Names the database without its password.
            let name = isPostgres ? (try? PostgresLocation(url: database).description) ?? "PostgreSQL" : "'\(database)'"
            throw CommandFailure("cannot open database \(name): \(describeStoreError(error))")
        }
    }

    /// Opens the store, runs it while `body` uses it, and closes it, also when `body` throws.
    func withStore<Result>(mayCreate: Bool = false, _ body: (any SyncStore) async throws -> Result) async throws
        -> Result
    {
        let store = try await openStore(mayCreate: mayCreate)
        return try await store.withRunning { try await body(store) }
    }
}

/// A command that failed for a reason its usage would not explain: printed without the usage.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension HavenServerCommand {
    /// Parses the process arguments and runs the chosen subcommand, async ones included.
    public static func runMain() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
