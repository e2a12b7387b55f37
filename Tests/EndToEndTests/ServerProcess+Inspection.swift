import Foundation
import GRDB
import HavenCore

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

    /// Every record on the server, as registers with their stamps, by id.
    func records() throws -> [String: RecordState] {
        try readOnlyDatabase().read { db in
            let states = try String.fetchAll(db, sql: "SELECT state FROM records")
            return Dictionary(
                uniqueKeysWithValues: try states.map { text in
                    let record = try JSONDecoder().decode(TrackedRecord.self, from: Data(text.utf8))
                    return (record.id, record.state)
                })
        }
    }
}
