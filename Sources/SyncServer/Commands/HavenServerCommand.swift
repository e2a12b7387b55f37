import ArgumentParser

/// `haven-server`: serve the sync API and manage its database.
public struct HavenServerCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "haven-server",
        abstract: "The Haven sync server: an append-only change log behind an HTTP API.",
        subcommands: [ServeCommand.self, TokenCommand.self, ImportCommand.self, CompactCommand.self])

    public init() {}
}

/// The database option every subcommand shares.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .long, help: ArgumentHelp("SQLite database file (created if missing).", valueName: "path"),
        transform: { $0 })
    var database: String = ProcessEnvironment.value("HAVEN_DATABASE") ?? "haven.sqlite"

    func openStore() throws -> SQLiteSyncStore {
        do {
            return try SQLiteSyncStore(path: database)
        } catch {
            throw ValidationError("cannot open database '\(database)': \(error)")
        }
    }
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
