import ArgumentParser
import Foundation
import HavenCore

/// `haven init`: creates the replica for one server and token.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create a replica for a server.")

    @OptionGroup var replica: ReplicaOptions
    @Option(help: "The server's address, such as http://127.0.0.1:8080.") var server: String
    @Option(help: "An access token from 'haven-server token create'.") var token: String

    func validate() throws {
        guard let url = URL(string: server), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw ValidationError("--server must be an http:// or https:// address, such as http://127.0.0.1:8080")
        }
        guard !token.isEmpty, !token.contains(where: \.isWhitespace) else {
            throw ValidationError("--token must be a token without spaces")
        }
    }

    func run() throws {
        let created = try Replica.create(at: replica.path, server: URL(string: server)!, token: token)
        print("created replica \(created.path) (replica id \(try created.settings().replicaID)); run 'haven sync' next")
    }
}

/// Options shared by the commands that talk to the server.
struct SyncOptions: ParsableArguments {
    @Option(help: "Changes per push request.") var batchSize: Int = 100
    @Option(help: "Records per pull page.") var pageSize: Int = 500
    @Flag(help: "Print a JSON summary.") var json = false

    func validate() throws {
        guard (1...1000).contains(batchSize) else { throw ValidationError("--batch-size must be from 1 to 1000") }
        guard (1...500).contains(pageSize) else { throw ValidationError("--page-size must be from 1 to 500") }
    }

    func engine(for replica: Replica) throws -> SyncEngine {
        let settings = try replica.settings()
        return SyncEngine(
            replica: replica, api: ServerAPI(server: settings.server, token: settings.token),
            configuration: .init(batchSize: batchSize, pageLimit: pageSize))
    }

    func report(_ summary: SyncEngine.Summary) throws {
        if json { return try printJSON(summary) }
        var parts: [String] = []
        if summary.pushed > 0 {
            var outcome = "\(summary.applied) applied"
            if summary.duplicate > 0 { outcome += ", \(summary.duplicate) already on the server" }
            if summary.rejected > 0 { outcome += ", \(summary.rejected) rejected" }
            parts.append("pushed \(summary.pushed) change\(summary.pushed == 1 ? "" : "s") (\(outcome))")
        }
        if summary.pulledRecords > 0 || summary.removedRecords > 0 {
            parts.append("pulled \(summary.pulledRecords) record\(summary.pulledRecords == 1 ? "" : "s") in \(summary.pages) page\(summary.pages == 1 ? "" : "s")")
        }
        print(parts.isEmpty ? "up to date" : parts.joined(separator: "; "))
        if summary.redownloaded { print("the server had forgotten this replica's position: everything was downloaded again") }
        if summary.removedRecords > 0 { print("\(summary.removedRecords) record(s) are no longer visible to this token and were removed") }
        if summary.newConflicts > 0 { print("\(summary.newConflicts) new conflict(s): see 'haven conflicts'") }
        if summary.rejected > 0 { print("\(summary.rejected) change(s) were rejected and kept: see 'haven status'") }
    }
}

/// `haven sync`: push, then pull.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sync", abstract: "Push unsent changes, then pull.")
    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var options: SyncOptions

    func run() async throws {
        let replica = try replica.open()
        try options.report(try await options.engine(for: replica).sync())
    }
}

/// `haven push`: only send the outbox.
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "push", abstract: "Send unsent changes only.")
    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var options: SyncOptions

    func run() async throws {
        var summary = SyncEngine.Summary()
        try await options.engine(for: try replica.open()).push(into: &summary)
        try options.report(summary)
    }
}

/// `haven pull`: only receive.
struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Receive changes only.")
    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var options: SyncOptions

    func run() async throws {
        var summary = SyncEngine.Summary()
        try await options.engine(for: try replica.open()).pull(into: &summary)
        try options.report(summary)
    }
}

/// `haven status`.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show unsent changes, conflicts and the last sync.")
    @OptionGroup var replica: ReplicaOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let replica = try replica.open()
        let status = try replica.status()
        if json { return try printJSON(status) }
        print("replica     \(status.replica)")
        print("server      \(status.server)")
        print("records     \(status.stories) stories, \(status.resources) resources")
        print("unsent      \(status.unsentChanges) change\(status.unsentChanges == 1 ? "" : "s")")
        print("rejected    \(status.rejectedChanges) change\(status.rejectedChanges == 1 ? "" : "s")")
        print("conflicts   \(status.conflicts)")
        print("last sync   \(status.lastSync.map(isoTime) ?? "never")")
        for rejected in try replica.rejectedChanges() {
            print("  rejected \(rejected.recordID): \(rejected.reason)")
        }
    }
}

/// `haven conflicts`: writes of this replica's author that lost.
struct ConflictsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "conflicts", abstract: "List writes that lost to concurrent ones.")
    @OptionGroup var replica: ReplicaOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let conflicts = try replica.open().conflicts()
        if json { return try printJSON(conflicts) }
        if conflicts.isEmpty { return print("no conflicts") }
        for conflict in conflicts {
            let what =
                conflict.reason == .deleted
                ? "was hidden by a delete by \(conflict.winnerAuthor) at \(isoTime(conflict.winner.physical))"
                : "lost to a write by \(conflict.winnerAuthor) at \(isoTime(conflict.winner.physical))"
            print("\(conflict.kind) \(conflict.recordID) \(conflict.field): your value \(display(conflict.value)) \(what)")
        }
    }
}

/// `haven export FILE`.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write every visible record as a canonical content pack.")
    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The file to write, or - for standard output.") var file: String

    func run() throws {
        let pack = try replica.open().exportPack()
        let data = try pack.canonicalJSON()
        if file == "-" {
            FileHandle.standardOutput.write(data)
        } else {
            try data.write(to: URL(fileURLWithPath: file), options: .atomic)
            print("exported \(pack.records.count) records to \(file)")
        }
    }
}

/// A value as a person reads it on one line.
func display(_ value: JSONValue) -> String {
    switch value {
    case .string(let text): "\"\(text.count > 60 ? text.prefix(57) + "..." : text)\""
    case .array(let items): items.map(display).joined(separator: ", ")
    case .null: "(empty)"
    case .bool(let flag): flag ? "yes" : "no"
    case .int(let number): String(number)
    case .double(let number): String(number)
    case .object: "{…}"
    }
}
