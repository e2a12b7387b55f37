import Foundation
import HavenCore
import Logging
import PostgresNIO

/// The store for several server instances on one PostgreSQL database (DESIGN §4).
///
/// Tables mirror the SQLite store's. What differs is how the rules of ``SyncStore`` are kept:
/// - Every push first locks the single row of `log_head` (`SELECT … FOR UPDATE`), so pushes
///   from every instance run one at a time, and `seq`, taken from that row, grows in commit
///   order. The row also holds the head that pulls report, read in the pull's own snapshot.
/// - A pull reads in one `REPEATABLE READ` snapshot: the head, the records and the conflicts
///   agree, so no reader can see a change without every change committed before it.
/// - A push that applied something sends `NOTIFY haven_changes` in its transaction; every
///   instance `LISTEN`s, and wakes its long-polls when the push commits.
public final class PostgresSyncStore: SyncStore {
    let client: PostgresClient
    private let running: Task<Void, Never>
    let logger: Logger
    public let epoch: String
    public let location: PostgresLocation

    /// The channel pushes notify on.
    static let commitChannel = "haven_changes"

    /// Connects to the database at `url` (see ``PostgresLocation``), creating or migrating its
    /// schema.
    ///
    /// - Parameter connectTimeout: how long to wait for the database before giving up.
    public static func open(url: String, logger: Logger, connectTimeout: Duration = .seconds(15)) async throws
        -> PostgresSyncStore
    {
        let location = try PostgresLocation(url: url)
        let client = PostgresClient(configuration: location.clientConfiguration(), backgroundLogger: logger)
        // Started first: a pool asked for a connection before it runs warns about it.
        let running = Task { await client.run() }
        do {
            // The schema is brought up to date on one connection of its own, outside the pool:
            // a database that cannot be reached fails here at once, with the server's own reason.
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
            return PostgresSyncStore(client: client, running: running, logger: logger, epoch: epoch, location: location)
        } catch {
            running.cancel()
            await running.value
            throw error
        }
    }

    private init(client: PostgresClient, running: Task<Void, Never>, logger: Logger, epoch: String, location: PostgresLocation)
    {
        self.client = client
        self.running = running
        self.logger = logger
        self.epoch = epoch
        self.location = location
    }

    public func push(_ changes: [Change], by caller: Caller, now: UInt64, maxDrift: UInt64) async throws
        -> [PushResult]
    {
        let admission = ChangeAdmission(caller: caller, now: now, maxDrift: maxDrift)
        let (epoch, logger) = (self.epoch, self.logger)
        return try await client.withTransaction(logger: logger) { connection in
            var head = try await connection.one("SELECT seq FROM log_head FOR UPDATE", as: Int64.self, logger)
            var results: [PushResult] = []
            for change in changes {
                let isDuplicate = try await connection.exists(
                    "SELECT 1 FROM change_log WHERE change_id = \(change.id)", logger)
                let isPurged = try await connection.exists(
                    "SELECT 1 FROM purged_records WHERE id = \(change.record.id)", logger)
                let existing = try await connection.rows(
                    "SELECT state, creator FROM records WHERE id = \(change.record.id)", as: (String, String).self, logger
                ).first.map { (record: try StoredJSON.decode(TrackedRecord.self, from: $0.0), creator: $0.1) }
                if let answer = ChangeApplication.answerWithoutApplying(
                    change, admission: admission, isDuplicate: isDuplicate, isPurged: isPurged, existing: existing)
                {
                    results.append(answer)
                    continue
                }
                head += 1
                let author = admission.caller.tokenID
                try await connection.query(
                    """
                    INSERT INTO change_log (seq, change_id, record_id, author, body, received_at)
                    VALUES (\(head), \(change.id), \(change.record.id), \(author), \(try StoredJSON.encode(change)), \(Int64(now)))
                    """, logger: logger)
                let (record, conflicts) = ChangeApplication.merge(
                    change, into: existing?.record, seq: head, author: author, epoch: epoch)
                try await connection.query(
                    """
                    INSERT INTO records (id, kind, creator, state, last_seq)
                    VALUES (\(record.id), \(record.kind.rawValue), \(existing?.creator ?? author), \(try StoredJSON.encode(record)), \(record.lastSeq))
                    ON CONFLICT (id) DO UPDATE SET state = excluded.state, last_seq = excluded.last_seq
                    """, logger: logger)
                for conflict in conflicts {
                    try await connection.query(
                        "INSERT INTO conflicts (seq, recipient, body) VALUES (\(head), \(conflict.recipient), \(try StoredJSON.encode(conflict)))",
                        logger: logger)
                }
                results.append(PushResult(id: change.id, status: .applied))
            }
            if results.contains(where: { $0.status == .applied }) {
                try await connection.query("UPDATE log_head SET seq = \(head)", logger: logger)
                // Delivered when the transaction commits, to every instance listening.
                try await connection.query(PostgresQuery(unsafeSQL: "NOTIFY \(Self.commitChannel)"), logger: logger)
            }
            return results
        }
    }

    public func pull(since: Int64, after position: Int64?, limit: Int, maxBytes: Int, for caller: Caller)
        async throws -> PullPage
    {
        let position = position ?? since
        let (epoch, logger) = (self.epoch, self.logger)
        return try await readSnapshot { connection in
            try await Self.checkHorizon(since: since, connection, logger)
            let head = try await connection.one("SELECT seq FROM log_head", as: Int64.self, logger)
            let rows = try await connection.rows(
                "SELECT state, creator FROM records WHERE last_seq > \(position) ORDER BY last_seq LIMIT \(Int64(limit + 1))",
                as: (String, String).self, logger)
            var page = PullPageBuilder(since: since, caller: caller, maxBytes: maxBytes, limit: limit)
            for (state, creator) in rows {
                guard page.add(try StoredJSON.decode(TrackedRecord.self, from: state), creator: creator) else { break }
            }
            // As in the SQLite store: a full page continues from its last record with the same
            // base; the last page brings the caller to the head.
            let cursor = page.more ? page.lastSeq : head
            let bodies = try await connection.rows(
                """
                SELECT body FROM conflicts WHERE recipient = \(caller.tokenID) AND seq > \(position) AND seq <= \(cursor)
                ORDER BY id
                """, as: String.self, logger)
            let names = try await connection.rows("SELECT id, name FROM tokens", as: (String, String).self, logger)
            let conflicts = ChangeApplication.namingWinners(
                try bodies.map { try StoredJSON.decode(Conflict.self, from: $0) },
                names: Dictionary(names, uniquingKeysWith: { first, _ in first }))
            let remaining =
                page.more
                ? Int(try await connection.one("SELECT count(*) FROM records WHERE last_seq > \(cursor)", as: Int64.self, logger))
                : nil
            return PullPage(
                changes: page.changes, removed: page.removed, conflicts: conflicts,
                cursor: page.more
                    ? SyncCursor(epoch: epoch, seq: since, position: cursor) : SyncCursor(epoch: epoch, seq: cursor),
                more: page.more, remaining: remaining)
        }
    }

    public func caller(forTokenHash hash: Data, now: UInt64) async throws -> Caller? {
        let tokens = try await client.withConnection { connection in
            try await Self.tokens(connection, where: "WHERE hash = \(hash)", logger)
        }
        guard let token = tokens.first, token.isValid(at: now) else { return nil }
        return Caller(tokenID: token.id, name: token.name, role: token.role)
    }

    public func addToken(_ token: TokenInfo, hash: Data) async throws {
        try await client.query(
            """
            INSERT INTO tokens (id, name, role, hash, created_at, expires_at)
            VALUES (\(token.id), \(token.name), \(token.role.rawValue), \(hash), \(Int64(token.createdAt)), \(token.expiresAt.map(Int64.init)))
            """, logger: logger)
    }

    public func tokens() async throws -> [TokenInfo] {
        try await client.withConnection { connection in
            try await Self.tokens(connection, where: "ORDER BY created_at DESC, id", logger)
        }
    }

    public func revokeToken(_ idOrName: String, now: UInt64) async throws -> Bool {
        try await client.withConnection { connection in
            try await connection.exists(
                """
                UPDATE tokens SET revoked_at = \(Int64(now))
                WHERE (id = \(idOrName) OR name = \(idOrName)) AND revoked_at IS NULL RETURNING 1
                """, logger)
        }
    }

    public func logSize() async throws -> Int {
        try await client.withConnection { connection in
            Int(try await connection.one("SELECT count(*) FROM change_log", as: Int64.self, logger))
        }
    }

    public func checkHealth() async throws {
        // Bounded: while the database is unreachable the pool waits for a connection, and a
        // health check must answer anyway.
        let (client, logger) = (self.client, self.logger)
        _ = try await Self.withTimeout(.seconds(5), location: location) {
            try await client.withConnection { connection in
                try await connection.one("SELECT value FROM meta WHERE key = 'epoch'", as: String.self, logger)
            }
        }
    }

    public func listenForCommits(_ onCommit: @escaping @Sendable () -> Void) async throws {
        try await client.withConnection { connection in
            try await connection.listen(on: Self.commitChannel) { notifications in
                for try await _ in notifications { onCommit() }
            }
        }
        // The notifications end only when the connection does.
        try Task.checkCancellation()
        throw PostgresStoreError("the connection listening for \(Self.commitChannel) closed")
    }

    public func close() async throws {
        running.cancel()
        await running.value
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

    private static func tokens(_ connection: PostgresConnection, where clause: PostgresQuery, _ logger: Logger)
        async throws -> [TokenInfo]
    {
        var query: PostgresQuery = "SELECT id, name, role, created_at, expires_at, revoked_at FROM tokens "
        query.sql += clause.sql
        query.binds = clause.binds
        let rows = try await connection.rows(
            query, as: (String, String, String, Int64, Int64?, Int64?).self, logger)
        return try rows.map { id, name, role, createdAt, expiresAt, revokedAt in
            guard let role = Role(rawValue: role) else { throw PostgresStoreError("token \(id) has an unknown role") }
            return TokenInfo(
                id: id, name: name, role: role, createdAt: UInt64(createdAt), expiresAt: expiresAt.map(UInt64.init),
                revokedAt: revokedAt.map(UInt64.init))
        }
    }

    /// Throws ``CursorExpired`` when a pull from `since` may have missed a purged delete.
    static func checkHorizon(since: Int64, _ connection: PostgresConnection, _ logger: Logger) async throws {
        guard since > 0 else { return }
        let horizon = try await storedHorizon(connection, logger)
        if since < horizon { throw CursorExpired(since: since, horizon: horizon) }
    }

    static func storedHorizon(_ connection: PostgresConnection, _ logger: Logger) async throws -> Int64 {
        let text = try await connection.one("SELECT value FROM meta WHERE key = 'horizon'", as: String.self, logger)
        return Int64(text) ?? 0
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

/// A failure of the PostgreSQL store that is not PostgreSQL's own.
struct PostgresStoreError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// What went wrong in a store, in a line, for messages and logs: PostgreSQL's own message, or
/// the network's error. postgres-nio's description hides both, to keep queries out of logs.
func describeStoreError(_ error: any Error) -> String {
    guard let error = error as? PSQLError else { return "\(error)" }
    if let message = error.serverInfo?[.message] { return message }
    if let underlying = error.underlying { return "\(underlying)" }
    return "\(error.code)"
}

extension PostgresConnection {
    /// Every row of `query`, decoded as one column or a tuple of columns.
    func rows<each Column: PostgresDecodable & Sendable>(
        _ query: PostgresQuery, as type: (repeat each Column).Type, _ logger: Logger
    ) async throws -> [(repeat each Column)] {
        var rows: [(repeat each Column)] = []
        for try await row in try await self.query(query, logger: logger).decode((repeat each Column).self) {
            rows.append(row)
        }
        return rows
    }

    /// The one value `query` answers; throws when it answers no row.
    func one<Value: PostgresDecodable & Sendable>(_ query: PostgresQuery, as type: Value.Type, _ logger: Logger)
        async throws -> Value
    {
        guard let value = try await rows(query, as: Value.self, logger).first else {
            throw PostgresStoreError("no row for: \(query.sql)")
        }
        return value
    }

    /// Whether `query` answers at least one row.
    func exists(_ query: PostgresQuery, _ logger: Logger) async throws -> Bool {
        var found = false
        for try await _ in try await self.query(query, logger: logger) { found = true }
        return found
    }
}
