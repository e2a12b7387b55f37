import ArgumentParser
import Foundation
import GRDB
import HavenCore

/// `haven`: a replica that works offline and syncs when a link comes back.
public struct HavenCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "haven",
        abstract: "Read and write Haven stories and resources offline; sync when a link comes back.",
        discussion: "The replica file is chosen by --replica or HAVEN_REPLICA (default ~/.haven/replica.sqlite).",
        subcommands: [
            InitCommand.self, SyncCommand.self, PushCommand.self, PullCommand.self, StatusCommand.self,
            RecordsCommand<StoryFields>.self, RecordsCommand<ResourceFields>.self, ConflictsCommand.self,
            RetryCommand.self, SearchCommand.self, HistoryCommand.self, ImportCommand.self, ExportCommand.self, WipeCommand.self,
            PinCommand.self, EncryptCommand.self, PassphraseCommand.self, DuressCommand.self,
        ])

    public init() {}

    /// Parses the process arguments and runs the chosen subcommand, async ones included.
    public static func runMain() async {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL {
            // Each step is one transaction, so what was saved before the disk filled is intact.
            exit(withError: ClientError(
                "the disk is full: free some space, then run the command again; everything saved before is kept"))
        } catch let error as ArgumentParser.ValidationError {
            exit(withError: error)  // Our own words, shown with the usage.
        } catch let error as ExitCode {
            exit(withError: error)
        } catch {
            // The message may quote the server or a record: its control characters are shown, not obeyed.
            exit(withError: ClientError(TerminalText.escaped("\(error)")))
        }
    }
}

/// The `--replica` option every command shares.
struct ReplicaOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The replica file (or HAVEN_REPLICA).", valueName: "path"))
    var replica: String?

    var path: String {
        if let replica { return replica }
        if let fromEnvironment = ProcessInfo.processInfo.environment["HAVEN_REPLICA"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".haven/replica.sqlite").path
    }

    @OptionGroup var passphrase: PassphraseOptions

    /// The one place commands open the replica: its passphrase is asked only when it is encrypted.
    func open() throws -> Replica {
        try Replica.open(at: path) { try passphrase.source().read(prompt: prompt) }
    }

    /// The encrypted replica's key file opened with its passphrase, for the commands that change it.
    func unlock() throws -> Replica.Unlocked {
        guard Replica.hasKeyFile(at: path) else {
            guard FileManager.default.fileExists(atPath: path) else { throw ClientError.noReplica(path) }
            throw ClientError("the replica \(path) is not encrypted: run 'haven encrypt' first")
        }
        return try Replica.unlock(at: path, passphrase: passphrase.source().read(prompt: prompt))
    }

    private var prompt: String { "Passphrase for \(path): " }
}

/// Printing JSON for `--json`: sorted keys, so output is stable.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// A time as ISO 8601 in UTC.
func isoTime(_ milliseconds: UInt64) -> String {
    ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
}
