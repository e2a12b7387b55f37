import ArgumentParser
import Foundation
import HavenCore

/// `haven-server compact --retention 30d`: purges deleted records and superseded log entries
/// older than the retention window, and prints how many (never what).
struct CompactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Purge deleted records, superseded changes and conflicts older than the retention window.",
        discussion: """
            Deleted records go whole, content included; only their ids are kept, so that they can \
            never be brought back. Replicas that last synced before a purged delete must download \
            everything again (their unsent changes are kept). Safe to run while 'serve' runs. \
            HAVEN_RETENTION sets the default window.
            """)

    @OptionGroup var database: DatabaseOptions
    @Option(help: "Keep deletes and superseded changes this long: 30d, 12h, 90m or 45s.")
    var retention: Lifetime = .environment("HAVEN_RETENTION", default: "30d")
    @Flag(help: "Print the counts as JSON.") var json = false

    func validate() throws {
        try Lifetime.validateEnvironment("HAVEN_RETENTION")
        try retention.validate(option: "--retention")
    }

    func run() async throws {
        let summary = try await database.withStore {
            try await ChangeLog(storage: $0).compact(retention: retention.milliseconds, now: HybridLogicalClock.systemWallClock())
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
            return
        }
        var line =
            "purged \(count(summary.purgedRecords, "deleted record")); removed \(count(summary.logEntries, "log entry", "log entries")) "
            + "and \(count(summary.conflicts, "conflict"))"
        if summary.blobs > 0 { line += "; removed \(count(summary.blobs, "media file"))" }
        if summary.horizon > 0 {
            line += "; replicas that last synced before log position \(summary.horizon) will download everything again"
        }
        print(line)
    }

    private func count(_ number: Int, _ one: String, _ many: String? = nil) -> String {
        "\(number) \(number == 1 ? one : many ?? one + "s")"
    }
}

extension Lifetime {
    /// The value of the environment variable `name`, or `fallback` when it is unset or invalid
    /// (``validateEnvironment(_:)`` reports the invalid case).
    static func environment(_ name: String, default fallback: String) -> Lifetime {
        ProcessEnvironment.value(name).flatMap(Lifetime.init(argument:)) ?? Lifetime(argument: fallback)!
    }

    /// Throws when the environment variable `name` is set to something that is not a lifetime,
    /// or to one longer than ``longest``.
    static func validateEnvironment(_ name: String) throws {
        guard let text = ProcessEnvironment.value(name) else { return }
        guard let lifetime = Lifetime(argument: text) else {
            throw ValidationError("\(name): '\(text.prefix(40))' is not a duration such as 30d, 12h, 90m or 45s")
        }
        try lifetime.validate(option: name)
    }

    /// How `--help` shows a default: in the largest whole unit.
    var defaultValueDescription: String {
        for (unit, size) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000)] as [(String, UInt64)]
        where milliseconds % size == 0 {
            return "\(milliseconds / size)\(unit)"
        }
        return "\(milliseconds / 1000)s"
    }
}
