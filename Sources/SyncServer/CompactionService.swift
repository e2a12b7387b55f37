import HavenCore
import Logging
import ServiceLifecycle

/// Compacts the store on a schedule while the server runs: once at start, then every
/// `interval` (`haven-server serve --retention 30d --compact-every 1h`).
///
/// A compaction that fails is logged and tried again at the next interval; it never stops the
/// server. Graceful shutdown lets a running compaction finish (it is one transaction) and ends
/// the wait for the next one.
public struct CompactionService: Service {
    /// How often compaction runs, and what it keeps.
    public struct Configuration: Sendable {
        /// How long deletes, superseded log entries and conflicts are kept, in milliseconds.
        public var retention: UInt64
        /// The time between two compactions.
        public var interval: Swift.Duration

        /// A schedule that keeps `retention` milliseconds (30 days by default) and runs every `interval` (an hour).
        public init(retention: UInt64 = 30 * 86_400_000, interval: Swift.Duration = .seconds(3_600)) {
            self.retention = retention
            self.interval = interval
        }
    }

    let log: ChangeLog
    let configuration: Configuration
    let clock: HybridLogicalClock.WallClock
    let logger: Logger
    /// Where the last compaction is noted, for the console's health page.
    let activity: ServerActivity?

    package init(
        log: ChangeLog, configuration: Configuration = .init(), logger: Logger,
        clock: @escaping HybridLogicalClock.WallClock = HybridLogicalClock.systemWallClock,
        activity: ServerActivity? = nil
    ) {
        self.activity = activity
        self.log = log
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    /// Compacts at once, then every ``Configuration/interval`` until graceful shutdown.
    public func run() async throws {
        let (interval, log) = (configuration.interval, self.log)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await compactOnce()
            do {
                try await cancelWhenGracefulShutdown { try await log.clock.sleep(for: interval) }
            } catch {
                return  // shutting down
            }
        }
    }

    /// Runs one compaction and logs what it purged, in counts; returns nil when it failed.
    @discardableResult
    public func compactOnce() async -> CompactionSummary? {
        do {
            let summary = try await log.compact(retention: configuration.retention, now: clock())
            logger.info(
                "compaction",
                metadata: [
                    "purged_records": "\(summary.purgedRecords)", "log_entries": "\(summary.logEntries)",
                    "conflicts": "\(summary.conflicts)", "horizon": "\(summary.horizon)",
                ])
            activity?.compacted(summary, at: clock())
            return summary
        } catch {
            // The type only: a database error may quote bound values.
            logger.error("compaction failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            return nil
        }
    }
}
