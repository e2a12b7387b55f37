import Foundation
import HavenCore
import HavenTrust
import Logging
import PostgresNIO
import ServiceLifecycle

/// The store for several server instances on one PostgreSQL database (DESIGN §4).
///
/// How the rules of ``ChangeLogStorage`` are kept:
/// - Every write transaction first locks the single row of `log_head` (`SELECT … FOR UPDATE`), so
///   pushes and compactions from every instance run one at a time, and `seq`, taken from that
///   row, grows in commit order. The row also holds the head that pulls report.
/// - A pull reads in one `REPEATABLE READ` snapshot: the head, the records and the conflicts agree.
/// - A push that appended something sends `NOTIFY haven_changes` in its transaction; ``run()``
///   `LISTEN`s, and signals ``commits`` when another instance's push commits.
public final class PostgresSyncStore: SyncStore {
    let client: PostgresClient
    let logger: Logger
    /// The random id of this database, in every cursor it issues.
    public let epoch: String
    /// Where the database is; its description has no password.
    public let location: PostgresLocation
    package let commits = ChangeSignal()

    /// The channel pushes notify on.
    static let commitChannel = "haven_changes"

    /// Connects to the database at `url` (see ``PostgresLocation``), creating or migrating its
    /// schema. The connection pool starts with ``run()``.
    ///
    /// - Parameter connectTimeout: how long to wait for the database before giving up.
    public static func open(url: String, logger: Logger, connectTimeout: Duration = .seconds(15)) async throws
        -> PostgresSyncStore
    {
        let location = try PostgresLocation(url: url)
        // The schema is brought up to date on one connection of its own, outside the pool: a
        // database that cannot be reached fails here at once, with the server's own reason.
        let epoch = try await withTimeout(connectTimeout, location: location) {
            let connection = try await PostgresConnection.connect(
                configuration: try location.connectionConfiguration(), id: 0, logger: logger)
            do {
                let epoch = try await migrate(connection, logger: logger)
                try? await connection.close()
                return epoch
            } catch {
                try? await connection.close()
                throw error
            }
        }
        let client = PostgresClient(configuration: location.clientConfiguration(), backgroundLogger: logger)
        return PostgresSyncStore(client: client, logger: logger, epoch: epoch, location: location)
    }

    private init(client: PostgresClient, logger: Logger, epoch: String, location: PostgresLocation) {
        self.client = client
        self.logger = logger
        self.epoch = epoch
        self.location = location
    }

    /// Runs the connection pool and listens for other instances' commits until graceful shutdown
    /// or cancellation; then closes every connection.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.client.run() }
            group.addTask { await self.listenForCommits() }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }

    /// Signals ``commits`` on every commit another process notifies. If listening fails, it tries
    /// again every second, and signals after each new start, in case a commit slipped by.
    private func listenForCommits() async {
        var attempt = 0
        while !Task.isCancelled {
            if attempt > 0 { commits.signal() }
            attempt += 1
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: Self.commitChannel) { notifications in
                        for try await _ in notifications { self.commits.signal() }
                    }
                }
                // The notifications end only when the connection does.
                throw PostgresStoreError("the connection listening for \(Self.commitChannel) closed")
            } catch {
                if Task.isCancelled { return }
                logger.warning(
                    "listening for other instances' commits failed; retrying in 1 s",
                    metadata: ["error": "\(describeStoreError(error))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    // MARK: The change log's rows

    package func push<Output: Sendable>(
        _ keys: PushKeys, decide: @escaping @Sendable (PushRows) throws -> (LogWrites, Output)
    ) async throws -> Output {
        let logger = self.logger
        return try await client.transaction(logger: logger) { connection in
            var rows = PushRows(
                head: try await connection.one("SELECT seq FROM log_head FOR UPDATE", as: Int64.self, logger),
                publishedDigest: try await Self.publishedDigest(connection, logger))
            let recordIDs = Array(Set(keys.recordIDs))
            for (id, body) in try await connection.rows(
                "SELECT change_id, body FROM change_log WHERE author = \(keys.author) AND change_id = ANY(\(keys.changeIDs))",
                as: (String, String).self, logger)
            {
                rows.loggedChanges[id] = try StoredJSON.decode(Change.self, from: body)
            }
            rows.purgedRecordIDs = Set(
                try await connection.rows(
                    "SELECT id FROM purged_records WHERE id = ANY(\(recordIDs))", as: String.self, logger))
            for stored in try await Self.storedRecords(
                "SELECT \(unescaped: Self.recordColumns) FROM records WHERE id = ANY(\(recordIDs))", connection, logger)
            {
                rows.records[stored.record.id] = stored
            }
            rows.replicaOwners = Dictionary(
                try await connection.rows(
                    "SELECT id, token_id FROM replicas WHERE id = ANY(\(keys.replicaIDs))", as: (String, String).self,
                    logger),
                uniquingKeysWith: { first, _ in first })
            rows.uploadedBlobs = try await Self.uploadedBlobs(keys.blobIDs, by: keys.author, connection, logger)
            let (writes, output) = try decide(rows)
            try await Self.write(writes, connection, logger)
            return output
        }
    }

    private static func write(_ writes: LogWrites, _ connection: PostgresConnection, _ logger: Logger) async throws {
        guard let last = writes.entries.last else { return }
        try await writeRecordMedia(writes.recordMedia, connection, logger)
        let entries = writes.entries
        try await connection.query(
            """
            INSERT INTO change_log (seq, change_id, record_id, author, body, received_at)
            SELECT * FROM unnest(\(entries.map(\.seq))::bigint[], \(entries.map(\.change.id))::text[],
                \(entries.map(\.change.record.id))::text[], \(entries.map(\.author))::text[],
                \(entries.map(\.body))::text[], \(entries.map { Int64($0.receivedAt) })::bigint[])
            """, logger: logger)
        let records = writes.records.map(\.record)
        let forms = try StoredRecord.storedForms(of: writes.records)
        try await connection.query(
            """
            INSERT INTO records (id, kind, creator, state, last_seq, claimed_seq, first_public_seq, is_public, shared_wire)
            SELECT id, kind, creator, state, last_seq, NULLIF(claimed_seq, -1), NULLIF(first_public_seq, -1), is_public,
                NULLIF(wire, '')
            FROM unnest(\(records.map(\.id))::text[], \(records.map(\.kind.rawValue))::text[],
                \(writes.records.map(\.creator))::text[], \(forms.map(\.state))::text[],
                \(records.map(\.lastSeq))::bigint[], \(writes.records.map { $0.claimedSeq ?? -1 })::bigint[],
                \(writes.records.map { $0.firstPublicSeq ?? -1 })::bigint[],
                \(writes.records.map { Int64($0.isPublic ? 1 : 0) })::bigint[],
                \(forms.map { $0.wire ?? "" })::text[])
                AS given (id, kind, creator, state, last_seq, claimed_seq, first_public_seq, is_public, wire)
            ON CONFLICT (id) DO UPDATE SET state = excluded.state, last_seq = excluded.last_seq,
                first_public_seq = excluded.first_public_seq, is_public = excluded.is_public, wire = NULL,
                shared_wire = excluded.shared_wire
            """, logger: logger)
        if !writes.replicaOwners.isEmpty {
            let owners = writes.replicaOwners.sorted { $0.key < $1.key }
            try await connection.query(
                """
                INSERT INTO replicas (id, token_id)
                SELECT * FROM unnest(\(owners.map(\.key))::text[], \(owners.map(\.value))::text[])
                """, logger: logger)
        }
        if !writes.conflicts.isEmpty {
            let conflicts = writes.conflicts
            // In the order given, so that conflict ids, and so pulls, follow it as on SQLite.
            try await connection.query(
                """
                INSERT INTO conflicts (seq, recipient, body)
                SELECT seq, recipient, body FROM unnest(\(conflicts.map(\.seq))::bigint[],
                    \(conflicts.map(\.conflict.recipient))::text[], \(try conflicts.map { try StoredJSON.encode($0.conflict) })::text[])
                    WITH ORDINALITY AS given (seq, recipient, body, n) ORDER BY n
                """, logger: logger)
        }
        try await connection.query("UPDATE log_head SET seq = \(last.seq)", logger: logger)
        if let digest = writes.publishedDigest {
            try await connection.query(
                "UPDATE meta SET value = \(digest.stored) WHERE key = \(PublishedSetDigest.metaKey)", logger: logger)
        }
        // Delivered when the transaction commits, to every instance listening.
        try await connection.query(PostgresQuery(unsafeSQL: "NOTIFY \(commitChannel)"), logger: logger)
    }

    package func pullRows(after position: Int64, limit: Int, recipient: String, readable: Readable?, whole: Bool)
        async throws -> PullRows
    {
        let logger = self.logger
        return try await readSnapshot { connection in
            let head = try await connection.one("SELECT seq FROM log_head", as: Int64.self, logger)
            let records: [PulledRecord]
            if whole {
                // As on SQLite: a stored wire form stands for the record; its state is read only
                // where there is none.
                records = try await connection.rows(
                    """
                    SELECT id, last_seq, is_public, coalesce(shared_wire, wire),
                        CASE WHEN shared_wire IS NULL AND wire IS NULL THEN state END,
                        creator, claimed_seq, first_public_seq
                    FROM records WHERE last_seq > \(position) ORDER BY last_seq LIMIT \(Int64(limit))
                    """, as: (String, Int64, Int64, String?, String?, String, Int64?, Int64?).self, logger
                ).map { id, lastSeq, isPublic, wire, state, creator, claimedSeq, firstPublicSeq in
                    if let wire {
                        return .whole(WholeRecord(id: id, lastSeq: lastSeq, creator: creator, isPublic: isPublic == 1, wire: wire))
                    }
                    return .stored(
                        StoredRecord(
                            record: try StoredJSON.decode(TrackedRecord.self, from: state ?? ""), creator: creator,
                            claimedSeq: claimedSeq, firstPublicSeq: firstPublicSeq))
                }
            } else {
                records = try await Self.storedRecords(
                    """
                    SELECT \(unescaped: Self.recordColumns) FROM records WHERE last_seq > \(position)
                    ORDER BY last_seq LIMIT \(Int64(limit))
                    """, connection, logger
                ).map(PulledRecord.stored)
            }
            let count: Int64?
            switch readable {
            case nil:
                count = nil
            case .all:
                count = try await connection.one(
                    "SELECT count(*) FROM records WHERE last_seq > \(position)", as: Int64.self, logger)
            case .publicOnly:
                count = try await connection.one(
                    "SELECT count(*) FROM records WHERE last_seq > \(position) AND is_public = 1", as: Int64.self, logger)
            case .publicOrCreatedBy(let token):
                count = try await connection.one(
                    "SELECT count(*) FROM records WHERE last_seq > \(position) AND (is_public = 1 OR creator = \(token))",
                    as: Int64.self, logger)
            }
            let conflicts = try await connection.rows(
                """
                SELECT seq, body FROM conflicts WHERE recipient = \(recipient) AND seq > \(position) AND seq <= \(head)
                ORDER BY id
                """, as: (Int64, String).self, logger
            ).map { (seq: $0.0, conflict: try StoredJSON.decode(Conflict.self, from: $0.1)) }
            let names =
                conflicts.isEmpty
                ? [] : try await connection.rows("SELECT id, name FROM tokens", as: (String, String).self, logger)
            return PullRows(
                head: head, horizon: try await Self.horizon(connection, logger), records: records,
                recordsAfterPosition: count.map { Int($0) }, conflicts: conflicts,
                tokenNames: Dictionary(names, uniquingKeysWith: { first, _ in first }),
                publishedDigest: try await Self.publishedDigest(connection, logger),
                signingKey: try await Self.currentSigningKey(connection, logger))
        }
    }

    package func compact(receivedBefore cutoff: UInt64, decide: @escaping @Sendable (CompactionRows) throws -> PurgeWrites)
        async throws -> (PurgeWrites, PurgeCounts)
    {
        let logger = self.logger
        let result = try await client.transaction(logger: logger) { connection in
            _ = try await connection.one("SELECT seq FROM log_head FOR UPDATE", as: Int64.self, logger)
            var rows = CompactionRows(horizon: try await Self.horizon(connection, logger), oldEntries: [:], records: [:])
            for (recordID, seq) in try await connection.rows(
                "SELECT record_id, seq FROM change_log WHERE received_at < \(Int64(cutoff))", as: (String, Int64).self,
                logger)
            {
                rows.oldEntries[recordID, default: []].append(seq)
            }
            for state in try await connection.rows(
                "SELECT state FROM records WHERE id = ANY(\(Array(rows.oldEntries.keys)))", as: String.self, logger)
            {
                let record = try StoredJSON.decode(TrackedRecord.self, from: state)
                rows.records[record.id] = record
            }
            let purge = try decide(rows)
            return (purge, try await Self.purge(purge, connection, logger))
        }
        // Dead rows keep purged content until vacuumed: reclaim them now rather than whenever
        // autovacuum comes by. Best effort: a failure leaves that to autovacuum.
        if !result.0.purgedRecords.isEmpty || result.1.logEntries + result.1.conflicts + result.1.blobs > 0 {
            do {
                try await client.query("VACUUM records, change_log, conflicts, media_chunks", logger: logger)
            } catch {
                logger.warning("vacuum after compaction failed", metadata: ["error": "\(describeStoreError(error))"])
            }
        }
        return result
    }

    private static func purge(_ purge: PurgeWrites, _ connection: PostgresConnection, _ logger: Logger) async throws
        -> PurgeCounts
    {
        var counts = PurgeCounts()
        counts.blobs = try await collectMedia(purge, connection, logger)
        let purged = purge.purgedRecords
        counts.conflicts += try await connection.count(
            "DELETE FROM conflicts WHERE seq IN (SELECT seq FROM change_log WHERE record_id = ANY(\(purged)))", logger)
        counts.logEntries += try await connection.count("DELETE FROM change_log WHERE record_id = ANY(\(purged))", logger)
        try await connection.query("DELETE FROM records WHERE id = ANY(\(purged))", logger: logger)
        try await connection.query(
            "INSERT INTO purged_records (id) SELECT unnest(\(purged)::text[]) ON CONFLICT DO NOTHING", logger: logger)
        counts.logEntries += try await connection.count(
            "DELETE FROM change_log WHERE seq = ANY(\(purge.supersededEntries))", logger)
        counts.conflicts += try await connection.count(
            """
            DELETE FROM conflicts WHERE NOT EXISTS (
                SELECT 1 FROM change_log WHERE change_log.seq = conflicts.seq AND change_log.received_at >= \(Int64(purge.conflictCutoff)))
            """, logger)
        try await connection.query("UPDATE meta SET value = \(String(purge.horizon)) WHERE key = 'horizon'", logger: logger)
        if counts.logEntries > 0 {
            try await connection.query(
                """
                INSERT INTO meta (key, value) VALUES ('compacted_before', \(String(purge.conflictCutoff)))
                ON CONFLICT (key) DO UPDATE SET value = excluded.value
                """, logger: logger)
        }
        return counts
    }

    package func historyRows(of recordID: String) async throws -> HistoryRows {
        let logger = self.logger
        return try await readSnapshot { connection in
            var rows = HistoryRows()
            rows.record = try await Self.storedRecords(
                "SELECT \(unescaped: Self.recordColumns) FROM records WHERE id = \(recordID)", connection, logger
            ).first
            guard rows.record != nil else { return rows }
            rows.entries = try await connection.rows(
                "SELECT seq, body, author, received_at FROM change_log WHERE record_id = \(recordID) ORDER BY seq",
                as: (Int64, String, String, Int64).self, logger
            ).map { seq, body, author, receivedAt in
                LogEntry(
                    seq: seq, change: try StoredJSON.decode(Change.self, from: body), body: body, author: author,
                    receivedAt: UInt64(clamping: receivedAt))
            }
            rows.tokenNames = Dictionary(
                try await connection.rows("SELECT id, name FROM tokens", as: (String, String).self, logger),
                uniquingKeysWith: { first, _ in first })
            rows.compactedBefore = try await connection.rows(
                "SELECT value FROM meta WHERE key = 'compacted_before'", as: String.self, logger
            ).first.flatMap { UInt64($0) }
            return rows
        }
    }

    package func logSize() async throws -> Int {
        try await client.withConnection { connection in
            Int(try await connection.one("SELECT count(*) FROM change_log", as: Int64.self, logger))
        }
    }

    package func checkHealth() async throws {
        // Bounded: while the database is unreachable the pool waits for a connection, and a
        // health check must answer anyway.
        let (client, logger) = (self.client, self.logger)
        _ = try await Self.withTimeout(.seconds(5), location: location) {
            try await client.withConnection { connection in
                try await connection.one("SELECT value FROM meta WHERE key = 'epoch'", as: String.self, logger)
            }
        }
    }

    /// Runs `body` in one read-only `REPEATABLE READ` transaction: every query sees the same
    /// snapshot.
    func readSnapshot<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        let logger = self.logger
        return try await client.withConnection { connection in
            try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            do {
                let result = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// The columns ``storedRecords(_:_:_:)`` reads.
    static let recordColumns = "state, creator, claimed_seq, first_public_seq"

    /// The records `query` selects, as ``recordColumns``.
    static func storedRecords(_ query: PostgresQuery, _ connection: PostgresConnection, _ logger: Logger)
        async throws -> [StoredRecord]
    {
        try await connection.rows(query, as: (String, String, Int64?, Int64?).self, logger).map { row in
            StoredRecord(
                record: try StoredJSON.decode(TrackedRecord.self, from: row.0), creator: row.1, claimedSeq: row.2,
                firstPublicSeq: row.3)
        }
    }

    private static func publishedDigest(_ connection: PostgresConnection, _ logger: Logger) async throws
        -> PublishedSetDigest
    {
        try PublishedSetDigest(
            stored: try await connection.one(
                "SELECT value FROM meta WHERE key = \(PublishedSetDigest.metaKey)", as: String.self, logger))
    }

    private static func horizon(_ connection: PostgresConnection, _ logger: Logger) async throws -> Int64 {
        Int64(try await connection.one("SELECT value FROM meta WHERE key = 'horizon'", as: String.self, logger)) ?? 0
    }

    /// Runs `body`, giving up after `timeout` with an error that names the database.
    private static func withTimeout<Value: Sendable>(
        _ timeout: Duration, location: PostgresLocation, _ body: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        try await withThrowingTaskGroup(of: Value?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let value = try await group.next()!  else {
                throw PostgresStoreError("no answer from \(location) within \(timeout.components.seconds) s")
            }
            return value
        }
    }
}
