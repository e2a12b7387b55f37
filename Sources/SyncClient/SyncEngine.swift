import Foundation
import HavenCore

/// Push the outbox in batches, then pull pages until the server has nothing more (DESIGN §5).
///
/// The engine holds no state of its own between steps: the outbox and the cursor live in the
/// replica and move forward one transaction at a time, so a sync killed at any point resumes
/// where it stopped, re-sending at most one batch (answered `duplicate`) and one page.
public struct SyncEngine: Sendable {
    public struct Configuration: Sendable {
        /// Changes per push request.
        public var batchSize = 100
        /// Records per pull page.
        public var pageLimit = 500

        public init(batchSize: Int = 100, pageLimit: Int = 500) {
            self.batchSize = batchSize
            self.pageLimit = pageLimit
        }
    }

    let replica: Replica
    let api: ServerAPI
    let configuration: Configuration

    public init(replica: Replica, api: ServerAPI, configuration: Configuration = .init()) {
        self.replica = replica
        self.api = api
        self.configuration = configuration
    }

    /// What a sync did, for people and for `--json`.
    public struct Summary: Sendable, Codable {
        public var pushed = 0
        public var applied = 0
        public var duplicate = 0
        public var rejected = 0
        public var pulledRecords = 0
        public var removedRecords = 0
        public var pages = 0
        public var newConflicts = 0
        public var redownloaded = false
    }

    /// Pushes every pending change, then pulls until up to date.
    public func sync() async throws -> Summary {
        var summary = Summary()
        try await push(into: &summary)
        try await pull(into: &summary)
        try replica.recordSyncFinished()
        return summary
    }

    /// Sends the outbox, batch by batch, until no pending change is left.
    public func push(into summary: inout Summary) async throws {
        while true {
            let changes = try replica.pendingChanges(limit: configuration.batchSize)
            guard !changes.isEmpty else { return }
            let response = try await api.push(changes)
            guard Set(response.results.map(\.id)) == Set(changes.map(\.id)) else {
                // Without an answer for every change the outbox cannot move on; stop, don't loop.
                throw ClientError("the server answered for \(response.results.count) of \(changes.count) changes; try again later")
            }
            try replica.acknowledge(response)
            summary.pushed += changes.count
            for result in response.results {
                switch result.status {
                case .applied: summary.applied += 1
                case .duplicate: summary.duplicate += 1
                case .rejected: summary.rejected += 1
                }
            }
        }
    }

    /// Pulls pages until the server says there is no more; each page is applied with its cursor.
    public func pull(into summary: inout Summary) async throws {
        var cursor = try replica.settings().cursor
        while true {
            let page: PullResponse
            do {
                page = try await api.pull(since: cursor, limit: configuration.pageLimit)
            } catch let error as ServerError where error.status == 410 && cursor != nil {
                // The server no longer knows our cursor: download everything again. Unsent
                // changes stay in the outbox and are pushed on the next sync.
                try replica.forgetCursor()
                cursor = nil
                summary.redownloaded = true
                continue
            }
            try replica.apply(page)
            cursor = page.cursor
            summary.pages += 1
            summary.pulledRecords += page.changes.count
            summary.removedRecords += page.removed.count
            summary.newConflicts += page.conflicts.count
            if !page.more { return }
        }
    }
}
