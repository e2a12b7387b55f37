import ArgumentParser
import Foundation
import HavenCore

/// `haven init`: creates the replica for one server and token, once the server is checked.
///
/// The token is best read from a file or standard input: on the command line it shows in `ps` to
/// every user of the machine and stays in the shell's history.
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create a replica for a server.",
        discussion: TokenOptions.discussion + """

            Before saving anything, init checks that the server answers, is a Haven server and takes the \
            token, and says which of these failed; --offline skips this, for a device with no link (the \
            first sync checks them).
            For an https:// server, init shows the SHA-256 of the server's public key and pins it: compare it \
            with the one the server's admin gave you, or give that one with --pin sha256/BASE64. Later \
            connections refuse any other key, whoever signed its certificate.
            """)

    @OptionGroup var replica: ReplicaOptions
    @Option(help: "The server's address, such as http://127.0.0.1:8080.") var server: String
    @OptionGroup var token: TokenOptions
    @Option(help: ArgumentHelp("The https:// server's key as its admin gave it; init refuses any other.", valueName: "sha256/BASE64"))
    var pin: String?
    @Flag(help: "Allow plain http:// to another machine: anyone on the link reads the records and the token.")
    var insecureHTTP = false
    @Flag(help: "Keep the replica in plaintext: whoever holds the device can read it.")
    var noEncryption = false
    @Flag(help: "Create the replica without reaching the server (no link now); the first sync checks it.")
    var offline = false

    func validate() throws {
        let url = try ServerAddress.parse(server, pin: pin)
        try PlainHTTPRule.check(url, insecureHTTPAllowed: insecureHTTP)
    }

    func run() async throws {
        let secret = try token.read()
        let passphrase = noEncryption
            ? nil : try replica.passphrase.source().readNew(prompt: "New passphrase for \(replica.path): ")
        let url = URL(string: server)!
        var link = Replica.Link(insecureHTTP: insecureHTTP)
        if url.scheme == "https", !offline || pin != nil {
            link.pin = try await ServerAddress.pinKey(of: url, expected: pin)
        } else if url.scheme == "https" {
            throw ValidationError("an https:// server's key must be pinned: give --pin sha256/… with --offline")
        }
        let account = offline ? nil : try await ServerAddress.check(url, token: secret, link: link)
        if !FileManager.default.fileExists(atPath: replica.path) {
            ReplicaKeyFile.destroy(beside: replica.path)  // left by an init cut short: it would claim the new replica
        }
        let created =
            try passphrase.map { try Replica.createEncrypted(at: replica.path, server: url, token: secret, link: link, passphrase: $0).replica() }
            ?? Replica.create(at: replica.path, server: url, token: secret, link: link)
        if let account { try created.saveAccount(account) }
        print(
            "created \(passphrase == nil ? "plaintext" : "encrypted") replica \(created.path) "
                + "(replica id \(try created.settings().replicaID)); run 'haven sync' next")
    }
}

/// Options shared by the commands that talk to the server.
struct SyncOptions: ParsableArguments {
    @Option(help: "Most changes per push request; the batch adapts to the link below it.")
    var batchSize: Int = SyncEngine.Configuration.defaultBatchSize
    @Option(help: "Most records per pull page; the page adapts to the link below it, and the server may send fewer.")
    var pageSize: Int = SyncEngine.Configuration.defaultPageLimit
    @Option(
        help: ArgumentHelp("Keep retrying this long while nothing gets through (0: never retry).", valueName: "seconds"))
    var retryFor: Double = 300
    @Option(help: ArgumentHelp("Give up one request after this many seconds.", valueName: "seconds"))
    var timeout: Double = 30
    @Flag(help: "Print a JSON summary.") var json = false

    /// The largest `--page-size`: the client's own bound, far above any server's page limit.
    static let largestPage = 100_000

    func validate() throws {
        guard (1...1000).contains(batchSize) else { throw ValidationError("--batch-size must be from 1 to 1000") }
        // The server serves a larger page at its own limit, whatever that is.
        guard (1...Self.largestPage).contains(pageSize) else {
            throw ValidationError("--page-size must be from 1 to \(Self.largestPage)")
        }
        guard retryFor >= 0, retryFor.isFinite else { throw ValidationError("--retry-for must be 0 or more seconds") }
        guard (1...3_600).contains(timeout) else { throw ValidationError("--timeout must be from 1 to 3600 seconds") }
    }

    /// The engine for `replica`, retrying as these options say (or forever), showing `progress`.
    func engine(for replica: Replica, retryForever: Bool = false, progress: ProgressLine? = nil) throws -> SyncEngine {
        let settings = try replica.settings()
        var api = ServerAPI(server: settings.server, token: settings.token, transport: try settings.transport())
        api.timeout = timeout
        let retry =
            retryForever
            ? RetryPolicy.forever : RetryPolicy(budget: retryFor, maxAttempts: retryFor == 0 ? 1 : nil)
        let configuration = SyncEngine.Configuration(
            batchSize: batchSize, pageLimit: pageSize, retry: retry, slowRequest: timeout / 2)
        var report: (@Sendable (SyncProgress) -> Void)?
        if let progress { report = progress.update }
        return SyncEngine(replica: replica, api: api, configuration: configuration, progress: report)
    }

    /// Asks the server again who the token is (`GET /v1/me`) and keeps the answer, so that a
    /// role an admin changed is what the next edit is checked against. Asked after a sync that
    /// got through; a failure here changes nothing, the sync having said what it had to.
    func refreshAccount(of replica: Replica) async {
        guard let settings = try? replica.settings(), let transport = try? settings.transport() else { return }
        var api = ServerAPI(server: settings.server, token: settings.token, transport: transport)
        api.timeout = timeout
        if let account = try? await api.me() { try? replica.saveAccount(account) }
    }

    func report(_ summary: SyncEngine.Summary) throws {
        if json { return try printJSON(summary) }
        Self.summaryLines(summary).forEach { print($0) }
    }

    /// What a sync, push or pull prints when it is done, without `--json`.
    static func summaryLines(_ summary: SyncEngine.Summary) -> [String] {
        var lines: [String] = []
        var parts: [String] = []
        if summary.pushed > 0 {
            var outcome = "\(summary.applied) applied"
            if summary.duplicate > 0 { outcome += ", \(summary.duplicate) already on the server" }
            if summary.rejected > 0 { outcome += ", \(summary.rejected) rejected" }
            if summary.purged > 0 { outcome += ", \(summary.purged) dropped" }
            parts.append("pushed \(summary.pushed) change\(summary.pushed == 1 ? "" : "s") (\(outcome))")
        }
        if summary.pulledRecords > 0 || summary.removedRecords > 0 || summary.keptRecords > 0 {
            parts.append(
                "pulled \(summary.pulledRecords) record\(summary.pulledRecords == 1 ? "" : "s") "
                    + "in \(summary.pages) page\(summary.pages == 1 ? "" : "s")")
        }
        lines.append(parts.isEmpty ? "up to date" : parts.joined(separator: "; "))
        if summary.retries > 0 {
            lines.append(
                "the link was unreliable: \(summary.retries) request(s) repeated; the next sync starts at "
                    + "\(summary.batchSize) changes per push, \(summary.pageSize) records per page")
        }
        if summary.redownloaded {
            lines.append("the server had forgotten this replica's position: everything was downloaded again")
        }
        if summary.removedRecords > 0 {
            lines.append("\(summary.removedRecords) record(s) are no longer visible to this token and were removed")
        }
        if summary.keptRecords > 0 {
            lines.append(
                "\(summary.keptRecords) record(s) are no longer visible to this token but were kept: they have changes "
                    + "the server has not accepted yet (see 'haven status')")
        }
        if summary.newConflicts > 0 { lines.append("\(summary.newConflicts) new conflict(s): see 'haven conflicts'") }
        if summary.restamped > 0 {
            lines.append(
                "this device's clock was ahead of the server's: \(summary.restamped) change(s) were stamped again "
                    + "with the server's time")
        }
        if summary.rejected > 0 {
            lines.append("\(summary.rejected) change(s) were rejected and kept: see 'haven status'")
        }
        if summary.purged > 0 {
            lines.append(
                "\(summary.purged) unsent change(s) were dropped: their records were deleted on the server and "
                    + "purged for good")
        }
        return lines
    }
}

/// `haven sync`: push, then pull; with `--watch`, keep doing so until interrupted.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: "Push unsent changes, then pull.",
        discussion: """
            Failed requests are retried with backoff for --retry-for seconds without progress; \
            what was received stays saved, so a new sync continues where one stopped. \
            With --watch it keeps the replica current (long-poll), retrying forever, until Ctrl-C or SIGTERM.
            """)
    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var options: SyncOptions
    @Flag(help: "Keep syncing until interrupted: wait for changes on the server and send new edits.")
    var watch = false

    func run() async throws {
        let replica = try replica.open()
        let line = ProgressLine.forTerminal()
        let engine = try options.engine(for: replica, retryForever: watch, progress: line)
        let summary: SyncEngine.Summary
        do {
            summary = watch ? try await Self.watchUntilInterrupted(engine) : try await engine.sync()
        } catch {
            line.finish()
            throw error
        }
        line.finish()
        if !watch { await options.refreshAccount(of: replica) }
        try options.report(summary)
    }

    /// Runs ``SyncEngine/watch(into:)`` until SIGINT or SIGTERM, which end it between transactions.
    private static func watchUntilInterrupted(_ engine: SyncEngine) async throws -> SyncEngine.Summary {
        let task = Task {
            var summary = SyncEngine.Summary()
            try await engine.watch(into: &summary)
            return summary
        }
        let sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { task.cancel() }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }
        return try await task.value
    }
}

extension SyncOptions {
    /// Runs `push` or `pull` alone with a progress line, then reports what it did.
    func runHalf(
        on replica: ReplicaOptions, _ step: (SyncEngine, inout SyncEngine.Summary) async throws -> Void
    ) async throws {
        let line = ProgressLine.forTerminal()
        defer { line.finish() }  // also when the step fails
        var summary = SyncEngine.Summary()
        let replica = try replica.open()
        try await step(try engine(for: replica, progress: line), &summary)
        line.finish()
        await refreshAccount(of: replica)
        try report(summary)
    }
}

/// `haven push`: only send the outbox.
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "push", abstract: "Send unsent changes only.")
    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var options: SyncOptions

    func run() async throws {
        try await options.runHalf(on: replica) { engine, summary in try await engine.push(into: &summary) }
    }
}

/// `haven pull`: only receive.
struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Receive changes only.")
    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var options: SyncOptions

    func run() async throws {
        try await options.runHalf(on: replica) { engine, summary in try await engine.pull(into: &summary) }
    }
}

/// `haven status`.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show unsent and rejected changes, conflicts, the last sync and the link's sizes.")
    @OptionGroup var replica: ReplicaOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let status = try replica.open().status()
        if json { return try printJSON(status) }
        Self.lines(status).forEach { print($0) }
    }

    /// What `haven status` prints: sentences, each with what to do when there is something to do.
    static func lines(_ status: ReplicaStatus) -> [String] {
        func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
        let token = status.account.map { "as \($0)" } ?? "with a token not checked yet (the next sync checks it)"
        var lines = [
            "This replica (\(status.replica)) syncs with \(status.server) \(token).",
            status.encrypted
                ? "It is encrypted: opening it needs the passphrase."
                : "It is not encrypted: anyone holding the device can read it ('haven encrypt' turns encryption on).",
            "It holds \(status.stories) \(status.stories == 1 ? "story" : "stories") and "
                + "\(count(status.resources, "resource")).",
        ]
        lines.append(
            status.unsentChanges == 0
                ? "Nothing is waiting to be sent."
                : "\(count(status.unsentChanges, "change")) \(status.unsentChanges == 1 ? "is" : "are") waiting to be "
                    + "sent: run 'haven sync'.")
        if status.rejectedChanges > 0 {
            lines.append(
                "\(count(status.rejectedChanges, "change")) the server refused \(status.rejectedChanges == 1 ? "is" : "are") "
                    + "kept here, listed below: fix and re-send, or 'haven discard ID' to drop.")
        }
        lines.append(
            status.conflicts == 0
                ? "No write of yours lost to another." : "\(count(status.conflicts, "conflict")): see 'haven conflicts'.")
        if let lastSync = status.lastSync {
            var line = "Last synced \(isoTime(lastSync))"
            if let age = status.cursorAgeSeconds, let lastPull = status.lastPull {
                line += lastPull == lastSync ? " (\(ago(age)))" : "; last up to date with the server \(ago(age))"
            }
            lines.append(line + ".")
        } else {
            lines.append("Never synced: run 'haven sync'.")
        }
        lines.append(
            "The link last allowed \(count(status.batchSize, "change")) per push and "
                + "\(count(status.pageSize, "record")) per page.")
        return lines + rejectedLines(status.rejected)
    }

    /// "12 min ago", "just now".
    private static func ago(_ seconds: Int) -> String { seconds < 60 ? "just now" : "\(age(seconds)) ago" }
}

/// `haven conflicts`: writes of this replica's author that lost, and changes the server refused.
struct ConflictsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts", abstract: "List writes that lost to concurrent ones, and rejected changes.",
        discussion: "--json prints the conflicts only; 'haven status --json' has the rejected changes.")
    @OptionGroup var replica: ReplicaOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let replica = try replica.open()
        let conflicts = try replica.conflicts()
        if json { return try printJSON(conflicts) }
        if conflicts.isEmpty { print("no conflicts") }
        for conflict in conflicts {
            let what =
                conflict.reason == .deleted
                ? "was hidden by a delete by \(conflict.winnerAuthor) at \(isoTime(conflict.winner.physical))"
                : "lost to a write by \(conflict.winnerAuthor) at \(isoTime(conflict.winner.physical))"
            print("\(conflict.kind) \(conflict.recordID) \(conflict.field): your value \(display(conflict.value)) \(what)")
        }
        rejectedLines(try replica.rejectedChanges()).forEach { print($0) }
    }
}

/// `haven retry [ID]`: queue rejected changes again as they are.
struct RetryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry", abstract: "Send rejected changes again as they are (all, or one record's).",
        discussion: """
            For a rejection fixed elsewhere, such as a token given a new role. To change what is sent, \
            edit the record instead: the edit re-sends the rejected change with the fix.
            """)
    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "A record id (or its first characters) or a change id; all rejected changes if omitted.")
    var id: String?

    func run() throws {
        let count = try replica.open().retryRejected(id)
        print("\(count) rejected change\(count == 1 ? "" : "s") queued again: run 'haven sync' to send")
    }
}

/// The "rejected" section of `status` and `conflicts`: each change, why, and what to do.
func rejectedLines(_ rejected: [RejectedChange]) -> [String] {
    guard !rejected.isEmpty else { return [] }
    return ["rejected (kept; edit the record to fix and re-send it, or 'haven retry ID' to send it as it is):"]
        + rejected.map { "  \($0.kind) \($0.recordID) [\($0.fields.joined(separator: ", "))]: \($0.reason)" }
}

/// A number of seconds as a person reads it: 45 s, 12 min, 3 h, 2 d.
func age(_ seconds: Int) -> String {
    switch seconds {
    case ..<60: "\(max(0, seconds)) s"
    case ..<3600: "\(seconds / 60) min"
    case ..<86_400: "\(seconds / 3600) h"
    default: "\(seconds / 86_400) d"
    }
}

/// `haven export FILE`.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write every visible record as a canonical content pack.",
        discussion: "Values the server refused are left out (the server's are written instead) unless --include-rejected.")
    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The file to write, or - for standard output.") var file: String
    @Flag(help: "Write an encrypted replica's records in plaintext all the same.") var plaintext = false
    @Flag(help: "Write the values of changes the server refused, too.") var includeRejected = false

    func run() throws {
        if Replica.hasKeyFile(at: replica.path) && !plaintext {
            throw ClientError(
                "the replica is encrypted, and an export is plaintext that anyone holding the device can read: nothing "
                    + "was written. Add --plaintext to write it anyway, then keep the file off this device or delete it")
        }
        let pack = try replica.open().exportPack(includingRejected: includeRejected)
        let data = try pack.canonicalJSON()
        if file == "-" {
            FileHandle.standardOutput.write(data)
        } else {
            do {
                try data.write(to: URL(fileURLWithPath: file), options: .atomic)
            } catch {
                throw ClientError(FileProblem.writing(file, purpose: "the pack"))
            }
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
