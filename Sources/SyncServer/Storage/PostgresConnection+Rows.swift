import Logging
import PostgresNIO

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

extension PostgresConnection {
    /// Runs a `DELETE` and returns how many rows it removed.
    func count(_ delete: PostgresQuery, _ logger: Logger) async throws -> Int {
        var query = delete
        query.sql = "WITH gone AS (\(delete.sql) RETURNING 1) SELECT count(*) FROM gone"
        return Int(try await one(query, as: Int64.self, logger))
    }
}

extension PostgresClient {
    /// `withTransaction`, throwing what the body threw: postgres-nio wraps it in a
    /// `PostgresTransactionError`, and a decision of the change log (a refused pack, say) must
    /// reach its caller as itself on both backends. Failures to begin, commit or roll back are
    /// thrown as they are.
    func transaction<Result: Sendable>(
        logger: Logger, _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        do {
            return try await withTransaction(logger: logger, body)
        } catch let error as PostgresTransactionError
            where error.beginError == nil && error.rollbackError == nil && error.commitError == nil
        {
            throw error.closureError ?? error
        }
    }
}
