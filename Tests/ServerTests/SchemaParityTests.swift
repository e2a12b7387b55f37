import Foundation
import GRDB
import HavenServer
import Testing
import TestSupport

/// The SQLite and PostgreSQL schemas are two short declarative lists
/// (`SQLiteSyncStore+Schema.swift`, `PostgresSyncStore+Schema.swift`); this test holds one against
/// the other, read from freshly migrated databases, so they cannot drift apart unnoticed.
struct SchemaParityTests {
    /// Tables only one backend has, each for how that backend keeps the head or its version:
    /// SQLite's `sqlite_sequence` and GRDB's migrations; PostgreSQL's `log_head` and `haven_schema`.
    static let ownTables: Set<String> = ["sqlite_sequence", "grdb_migrations", "log_head", "haven_schema"]

    @Test(.enabled(if: PostgresTestDatabase.isEnabled))
    func bothBackendsHaveTheSameTablesColumnsAndIndexes() async throws {
        // Given a new database of each backend, migrated by opening its store
        let sqlite = try await TestServer.make(backend: .sqlite)
        let postgres = try await TestServer.make(backend: .postgres)

        // When their schemas are read back from the databases themselves
        let fromSQLite = try sqliteSchema(at: sqlite.path)
        let fromPostgres = try postgresSchema(at: try #require(postgres.postgres).url)

        // Then they agree, column by column and index by index
        #expect(!fromSQLite.columns.isEmpty)
        #expect(fromSQLite.columns == fromPostgres.columns)
        #expect(fromSQLite.indexes == fromPostgres.indexes)
        #expect(fromSQLite.unique == fromPostgres.unique)
    }

    struct Schema {
        /// "table.column type [not null] [primary key]"
        var columns: Set<String> = []
        /// "table(columns) name" of every index created by name.
        var indexes: Set<String> = []
        /// "table.column" of every single-column unique constraint.
        var unique: Set<String> = []
    }

    private func sqliteSchema(at path: String) throws -> Schema {
        var configuration = Configuration()
        configuration.readonly = true
        return try DatabaseQueue(path: path, configuration: configuration).read { db in
            var schema = Schema()
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
                .filter { !Self.ownTables.contains($0) }
            for table in tables {
                for column in try Row.fetchAll(db, sql: "PRAGMA table_info(\(table))") {
                    let isKey = (column["pk"] as Int) > 0
                    schema.columns.insert(
                        describe(
                            table, column["name"], type: column["type"], notNull: (column["notnull"] as Int) == 1 || isKey,
                            primaryKey: isKey))
                }
                for index in try Row.fetchAll(db, sql: "PRAGMA index_list(\(table))") {
                    let name: String = index["name"]
                    let columns = try String.fetchAll(db, sql: "SELECT name FROM pragma_index_info(?)", arguments: [name])
                    switch index["origin"] as String {
                    case "c": schema.indexes.insert("\(table)(\(columns.joined(separator: ","))) \(name)")
                    case "u" where columns.count == 1: schema.unique.insert("\(table).\(columns[0])")
                    default: break
                    }
                }
            }
            return schema
        }
    }

    private struct PostgresColumn: Decodable {
        var table_name: String, column_name: String, data_type: String, is_nullable: String, is_key: Bool
    }
    private struct PostgresIndex: Decodable {
        var tablename: String, indexname: String, columns: String, is_unique: Bool, is_constraint: Bool
    }

    private func postgresSchema(at url: String) throws -> Schema {
        var schema = Schema()
        let columns = try PostgresTestDatabase.rows(
            PostgresColumn.self,
            """
            SELECT c.table_name, c.column_name, c.data_type, c.is_nullable,
                EXISTS (SELECT 1 FROM information_schema.key_column_usage k
                    JOIN information_schema.table_constraints t USING (constraint_schema, constraint_name)
                    WHERE t.constraint_type = 'PRIMARY KEY' AND k.table_name = c.table_name
                    AND k.column_name = c.column_name) AS is_key
            FROM information_schema.columns c WHERE c.table_schema = 'public'
            """, at: url)
        for column in columns where !Self.ownTables.contains(column.table_name) {
            schema.columns.insert(
                describe(
                    column.table_name, column.column_name, type: column.data_type, notNull: column.is_nullable == "NO",
                    primaryKey: column.is_key))
        }
        let indexes = try PostgresTestDatabase.rows(
            PostgresIndex.self,
            """
            SELECT t.relname AS tablename, i.relname AS indexname, x.indisunique AS is_unique,
                EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = i.oid) AS is_constraint,
                (SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)
                    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum) AS columns
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_namespace s ON s.oid = t.relnamespace WHERE s.nspname = 'public'
            """, at: url)
        for index in indexes where !Self.ownTables.contains(index.tablename) {
            if !index.is_constraint {
                schema.indexes.insert("\(index.tablename)(\(index.columns)) \(index.indexname)")
            } else if index.is_unique, !index.indexname.hasSuffix("_pkey"), !index.columns.contains(",") {
                schema.unique.insert("\(index.tablename).\(index.columns)")
            }
        }
        return schema
    }

    /// One column, its type named the same way on both backends.
    private func describe(_ table: String, _ column: String, type: String, notNull: Bool, primaryKey: Bool) -> String {
        let kind =
            switch type.lowercased() {
            case "integer", "bigint": "integer"
            case "text": "text"
            case "blob", "bytea": "bytes"
            default: "unknown type \(type)"
            }
        return "\(table).\(column) \(kind)" + (notNull ? " not null" : "") + (primaryKey ? " primary key" : "")
    }
}
