import Foundation
import GRDB
import HavenCore
import TestSupport

/// What the bad-link, kill and disk-full tests read of a running server.
extension ServerProcess {
    /// The port from `url`, for a proxy in front of the server.
    var port: Int { URL(string: url)?.port ?? 0 }

    /// The server's database, opened read-only beside the running server.
    func readOnlyDatabase() throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        return try DatabaseQueue(path: database, configuration: configuration)
    }

    /// Whether the server runs on PostgreSQL rather than a SQLite file.
    var isPostgres: Bool { database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") }

    /// Every record on the server, as registers with their stamps, by id.
    func records() throws -> [String: RecordState] {
        let states: [String]
        if isPostgres {
            struct Row: Decodable { var state: String }
            states = try PostgresTestDatabase.rows(Row.self, "SELECT state::text AS state FROM records", at: database)
                .map(\.state)
        } else {
            states = try readOnlyDatabase().read { db in try String.fetchAll(db, sql: "SELECT state FROM records") }
        }
        return Dictionary(
            uniqueKeysWithValues: try states.map { text in
                let record = try JSONDecoder().decode(TrackedRecord.self, from: Data(text.utf8))
                return (record.id, record.state)
            })
    }

    /// The ids of the media files the server holds.
    func mediaBlobIDs() throws -> [String] {
        let sql = "SELECT id FROM media_blobs ORDER BY id"
        if isPostgres {
            struct Row: Decodable { var id: String }
            return try PostgresTestDatabase.rows(Row.self, sql, at: database).map(\.id)
        }
        return try readOnlyDatabase().read { db in try String.fetchAll(db, sql: sql) }
    }

    /// How many chunks of media bytes (files and open uploads) the server holds.
    func mediaChunkCount() throws -> Int {
        let sql = "SELECT COUNT(*) AS n FROM media_chunks"
        if isPostgres {
            struct Row: Decodable { var n: Int }
            return try PostgresTestDatabase.rows(Row.self, sql, at: database).first?.n ?? 0
        }
        return try readOnlyDatabase().read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
    }

    /// How many times each change id is in the server's change log.
    func changeLogCounts() throws -> [String: Int] {
        let sql = "SELECT change_id, COUNT(*) AS n FROM change_log GROUP BY change_id"
        if isPostgres {
            struct Row: Decodable {
                var change_id: String
                var n: Int
            }
            return Dictionary(
                uniqueKeysWithValues: try PostgresTestDatabase.rows(Row.self, sql, at: database).map { ($0.change_id, $0.n) })
        }
        return try readOnlyDatabase().read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: sql).map { ($0["change_id"] as String, $0["n"] as Int) })
        }
    }
}
