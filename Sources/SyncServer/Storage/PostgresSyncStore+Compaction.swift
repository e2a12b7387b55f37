import HavenCore
import PostgresNIO

/// Compaction on PostgreSQL: the rules of `SQLiteSyncStore+Compaction.swift`, in one transaction
/// that holds the push lock, so no push and no other instance's compaction runs meanwhile.
extension PostgresSyncStore {
    public func compact(retention: UInt64, now: UInt64) async throws -> CompactionSummary {
        let cutoff = Int64(now > retention ? now - retention : 0)
        let logger = self.logger
        let summary = try await client.withTransaction(logger: logger) { connection in
            _ = try await connection.one("SELECT seq FROM log_head FOR UPDATE", as: Int64.self, logger)
            var oldEntries: [String: [Int64]] = [:]
            for (recordID, seq) in try await connection.rows(
                "SELECT record_id, seq FROM change_log WHERE received_at < \(cutoff)", as: (String, Int64).self, logger)
            {
                oldEntries[recordID, default: []].append(seq)
            }
            var states: [String: TrackedRecord] = [:]
            for state in try await connection.rows(
                "SELECT state FROM records WHERE id = ANY(\(Array(oldEntries.keys)))", as: String.self, logger)
            {
                let record = try StoredJSON.decode(TrackedRecord.self, from: state)
                states[record.id] = record
            }
            let plan = CompactionPlan(
                oldEntries: oldEntries, horizon: try await Self.storedHorizon(connection, logger), state: { states[$0] })

            var summary = CompactionSummary()
            let purged = plan.purgedRecords
            summary.conflicts += try await connection.count(
                "DELETE FROM conflicts WHERE seq IN (SELECT seq FROM change_log WHERE record_id = ANY(\(purged)))", logger)
            summary.logEntries += try await connection.count(
                "DELETE FROM change_log WHERE record_id = ANY(\(purged))", logger)
            try await connection.query("DELETE FROM records WHERE id = ANY(\(purged))", logger: logger)
            try await connection.query(
                "INSERT INTO purged_records (id) SELECT unnest(\(purged)::text[]) ON CONFLICT DO NOTHING", logger: logger)
            summary.purgedRecords = purged.count
            summary.logEntries += try await connection.count(
                "DELETE FROM change_log WHERE seq = ANY(\(plan.supersededEntries))", logger)
            summary.conflicts += try await connection.count(
                """
                DELETE FROM conflicts WHERE NOT EXISTS (
                    SELECT 1 FROM change_log WHERE change_log.seq = conflicts.seq AND change_log.received_at >= \(cutoff))
                """, logger)
            try await connection.query(
                "UPDATE meta SET value = \(String(plan.horizon)) WHERE key = 'horizon'", logger: logger)
            summary.horizon = plan.horizon
            return summary
        }
        // Dead rows keep purged content until vacuumed: reclaim them now rather than whenever
        // autovacuum comes by. Best effort: a failure leaves that to autovacuum.
        if summary.purgedRecords + summary.logEntries + summary.conflicts > 0 {
            do {
                try await client.query("VACUUM records, change_log, conflicts", logger: logger)
            } catch {
                logger.warning("vacuum after compaction failed", metadata: ["error": "\(describeStoreError(error))"])
            }
        }
        return summary
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
