import FaultProxy
import Foundation
import GRDB
import HavenClient
import HavenCore

/// Everything measured at one size.
struct SizeResult {
    var records = 0
    var packBytes = 0
    // 1. Publish
    var importSeconds = 0.0
    var publishSeconds = 0.0
    var publishBodyBytes = 0
    var publishServerPeak = 0
    // 2. First sync
    var firstSyncSeconds = 0.0
    var firstSyncPages = 0
    var firstSyncBodyBytes = 0
    var firstSyncInflatedBytes = 0
    var firstSyncInflatedCompressed = 0
    var firstSyncClientPeak = 0
    var firstSyncServerPeak = 0
    /// CPU seconds (user + system) of the first sync: the `haven` process, and the server's over it.
    var firstSyncClientCPU = 0.0
    var firstSyncServerCPU = 0.0
    // 7. Floors
    var rawInsertSeconds = 0.0
    /// The search index built in one pass over the raw floor's rows (what the first search does).
    var rawIndexSeconds = 0.0
    /// The synced replica's first search, made before the index the download deferred is built.
    var firstSearchSeconds = 0.0
    /// The six queries once each before the index is built: answered by reading the text.
    var searchBeforeIndex: Percentiles?
    /// The deferred index built afterwards (what `haven search` does once it has answered).
    var indexBuildSeconds = 0.0
    /// Whether the six queries found the same results, scores included, before and after.
    var searchSameAfterIndex = false
    var jsonBytes = 0
    var gzipFloorBytes = 0
    // 3. Incremental
    var incrementalSeconds = 0.0
    var incrementalWireUp = 0
    var incrementalWireDown = 0
    var incrementalBodyBytes = 0
    var incrementalRecords = 0
    var changedFieldsGzip = 0
    var changedFieldsJSON = 0
    // 4. No-change poll
    var pollUp = 0
    var pollDown = 0
    var pollSeconds = 0.0
    // 6. Local operations
    var addStory: Percentiles?
    var editStory: Percentiles?
    var search: Percentiles?
    var searchShort: Percentiles?
    /// `haven wipe --yes` of the synced replica with the edits above unsent, whole process.
    var wipeSeconds = 0.0
    var wipeUnsent = 0
    // 8. Encrypted replica
    var encryption = EncryptionResult()
}

struct Measurements {
    let harness: Harness
    let seed: UInt64

    // MARK: - One size

    func run(size: Int, log: (String) -> Void) async throws -> SizeResult {
        let dir = "n\(size)"
        func path(_ name: String) -> String { harness.path("\(dir)/\(name)") }
        var generator = DataGenerator(seed: seed)
        let records = generator.records(size)
        let (published, server, token) = try await publishAndFirstSync(records, in: dir, log: log)
        var result = published

        // 8. The same first sync into an encrypted replica, and opening it.
        result.encryption = try encryption(server: server, token: token, records: size, in: dir)
        log("n=\(size): encrypted first sync in \(result.encryption.encryptedSyncSeconds) s")

        // 3. Incremental: 100 stories get a new summary, 20 records are deleted.
        let proxy = try FaultProxy(upstreamPort: server.port)
        defer { proxy.stop() }
        try harness.setServer(ofReplica: path("reader.sqlite"), to: proxy.url)
        let publisher = try Replica.open(at: path("publisher.sqlite"))
        let stories = records.filter { $0.kind == .story }
        let step = max(1, stories.count / 120)
        let edited = (0..<100).map { stories[$0 * step].id }
        let deleted = (100..<120).map { stories[$0 * step].id }
        for id in edited { _ = try publisher.edit(id, kind: .story, values: ["summary": .string(generator.summary())]) }
        for id in deleted { _ = try publisher.delete(id, kind: .story) }
        _ = try harness.haven(["push", "--replica", path("publisher.sqlite"), "--json"])
        var deltas: [RecordState] = []
        for id in edited {
            let record = try publisher.record(id)
            deltas.append(RecordState(id: id, kind: .story, fields: ["summary": record.fields["summary"]!]))
        }
        for id in deleted {
            let record = try publisher.record(id)
            deltas.append(RecordState(id: id, kind: .story, deleted: record.deleted))
        }
        let deltaJSON = try JSONEncoder().encode(deltas)
        result.changedFieldsJSON = deltaJSON.count
        result.changedFieldsGzip = try gzipSize(deltaJSON)
        var before = proxy.counters()
        let (incremental, incrementalRun) = try harness.haven(["sync", "--replica", path("reader.sqlite"), "--json"])
        var after = proxy.counters()
        result.incrementalSeconds = incrementalRun.seconds
        result.incrementalWireUp = after.toServer - before.toServer
        result.incrementalWireDown = after.toClient - before.toClient
        result.incrementalBodyBytes = incremental["bytesReceived"] as? Int ?? 0
        result.incrementalRecords = incremental["pulledRecords"] as? Int ?? 0

        // 4. No-change poll: five syncs with nothing new; bytes as the proxy forwarded them.
        var pollTimes: [Double] = []
        for _ in 0..<5 {
            before = proxy.counters()
            let (_, poll) = try harness.haven(["sync", "--replica", path("reader.sqlite"), "--json"])
            after = proxy.counters()
            pollTimes.append(poll.seconds)
            result.pollUp = after.toServer - before.toServer
            result.pollDown = after.toClient - before.toClient
        }
        result.pollSeconds = pollTimes.sorted()[2]
        server.stop()
        log("n=\(size): incremental \(result.incrementalWireDown) down; poll \(result.pollUp)+\(result.pollDown)")

        // 6. Local operations on the synced replica.
        let reader = try Replica.open(at: path("reader.sqlite"))
        try measureSearch(reader, into: &result)
        var adds: [Double] = []
        var edits: [Double] = []
        for index in 0..<200 {
            let values: [String: JSONValue] = [
                "title": .string("Field note \(index)"), "body": .string(generator.summary()), "language": "en",
            ]
            adds.append(try timed { try reader.add(.story, values: values) }.1)
            let id = stories[(index * 37) % stories.count].id
            guard !deleted.contains(id) else { continue }
            let summary = generator.summary()
            edits.append(try timed { try reader.edit(id, kind: .story, values: ["summary": .string(summary)]) }.1)
        }
        result.addStory = Percentiles(adds)
        result.editStory = Percentiles(edits)
        result.wipeUnsent = try reader.status().unsentChanges

        // A device in danger: the replica, its unsent edits among it, destroyed at once.
        let (_, wipe) = try harness.haven(["wipe", "--yes", "--replica", path("reader.sqlite")])
        result.wipeSeconds = wipe.seconds
        log("n=\(size): wipe \(String(format: "%.2f", wipe.seconds)) s")
        return result
    }

    /// Steps 1, 2 and 7 on `records`, in the scratch folder `dir`: an editor's replica imports
    /// them and pushes them to a new server; a new reader's first sync from a fresh server
    /// process, then the same download in-process to count its bodies inflated; the floors of
    /// that sync. Returns the server still running, for the steps that follow, and its editor token.
    func publishAndFirstSync(_ records: [ContentPack.Record], in dir: String, log: (String) -> Void) async throws
        -> (SizeResult, RunningServer, String)
    {
        var result = SizeResult()
        let size = records.count
        result.records = size
        try FileManager.default.createDirectory(atPath: harness.path(dir), withIntermediateDirectories: true)
        func path(_ name: String) -> String { harness.path("\(dir)/\(name)") }
        let pack = try JSONEncoder().encode(ContentPack(records: records))
        try pack.write(to: URL(fileURLWithPath: path("pack.json")))
        result.packBytes = pack.count
        log("n=\(size): pack of \(pack.count) bytes")

        // Each timed step is run three times and its median run kept: on a shared machine one
        // run of a second can be a third slower or faster than the next.
        // 1. Publish: the editor imports the pack into a replica, then pushes it, each time to a
        // fresh server database; the last one serves the first syncs.
        var database = ""
        var token = ""
        var publishes: [(importSeconds: Double, pushSeconds: Double, bodyBytes: Int, peak: Int)] = []
        for run in 1...Self.runs {
            database = path("server-\(run).sqlite")
            token = try harness.createToken(database: database, name: "bench")
            let server = try RunningServer.start(harness, database: database)
            // The last publisher edits for step 3.
            let publisher = path(run == Self.runs ? "publisher.sqlite" : "publisher-\(run).sqlite")
            _ = try harness.haven(["init", "--replica", publisher, "--server", server.url, "--token", token, "--no-encryption"])
            let (_, imported) = try harness.haven(["import", "--replica", publisher, path("pack.json")])
            let (pushed, push) = try harness.haven(["push", "--replica", publisher, "--json"])
            guard pushed["applied"] as? Int == size else { throw BenchError("publish applied \(pushed["applied"] ?? "?") of \(size)") }
            publishes.append((imported.seconds, push.seconds, pushed["bytesSent"] as? Int ?? 0, server.stop()))
            log("n=\(size): imported in \(imported.seconds) s, pushed in \(push.seconds) s")
        }
        let publish = Self.median(publishes) { $0.importSeconds + $0.pushSeconds }
        (result.importSeconds, result.publishSeconds) = (publish.importSeconds, publish.pushSeconds)
        (result.publishBodyBytes, result.publishServerPeak) = (publish.bodyBytes, publish.peak)

        // 2. First sync: a fresh replica, and a fresh server process so that its peak memory is
        // the sync's.
        var server: RunningServer!
        var syncs: [SizeResult] = []
        for _ in 1...Self.runs {
            server?.stop()
            server = try RunningServer.start(harness, database: database)
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path("reader.sqlite") + suffix) }
            _ = try harness.haven(["init", "--replica", path("reader.sqlite"), "--server", server.url, "--token", token, "--no-encryption"])
            let serverCPUBefore = server.cpuSeconds
            let (synced, sync) = try harness.haven(["sync", "--replica", path("reader.sqlite"), "--json"])
            guard synced["pulledRecords"] as? Int == size else { throw BenchError("first sync pulled \(synced["pulledRecords"] ?? "?")") }
            var run = result  // What was measured before, with this run's first sync.
            run.firstSyncServerCPU = server.cpuSeconds - serverCPUBefore
            run.firstSyncClientCPU = sync.cpuSeconds
            run.firstSyncSeconds = sync.seconds
            run.firstSyncPages = synced["pages"] as? Int ?? 0
            run.firstSyncBodyBytes = synced["bytesReceived"] as? Int ?? 0
            run.firstSyncClientPeak = sync.peakBytes
            run.firstSyncServerPeak = server.peakBytes
            syncs.append(run)
            log("n=\(size): first sync in \(sync.seconds) s, \(run.firstSyncBodyBytes) bytes")
        }
        try harness.setServer(ofReplica: path("publisher.sqlite"), to: server.url)
        result = Self.median(syncs) { $0.firstSyncSeconds }

        // The same download with the engine in-process, counting bodies inflated and gzipped.
        do {
            let counting = CountingTransport()
            let replica = try Replica.create(
                at: path("replay.sqlite"), server: URL(string: server.url)!, token: token)
            let api = ServerAPI(server: URL(string: server.url)!, token: token, transport: counting)
            _ = try await SyncEngine(replica: replica, api: api).sync()
            result.firstSyncInflatedBytes = counting.inflated
            result.firstSyncInflatedCompressed = counting.compressed
        }
        try? FileManager.default.removeItem(atPath: path("replay.sqlite"))

        // 7. Floors: the same rows into the same schema in one transaction; gzip of the records.
        let rows = try harness.replicaRows(path("reader.sqlite"))
        let json = recordsJSON(rows)
        result.jsonBytes = json.count
        result.gzipFloorBytes = try gzipSize(json)
        let floors = try (1...Self.runs).map { try rawInsert(rows, into: path("raw-\($0).sqlite")) }
        (result.rawInsertSeconds, result.rawIndexSeconds) = Self.median(floors) { $0.insert }
        log("n=\(size): raw insert \(result.rawInsertSeconds) s, gzip floor \(result.gzipFloorBytes)")

        return (result, server, token)
    }

    /// How many times each timed step of publish, first sync and the raw floor runs; its
    /// median run is reported.
    static let runs = 3

    /// The run whose `key` is the median of `runs` (an odd number of them).
    static func median<Run>(_ runs: [Run], by key: (Run) -> Double) -> Run {
        runs.sorted { key($0) < key($1) }[runs.count / 2]
    }

    static let searchQueries = ["shelter", "Hanawon centre", "여성 정착", "broker river", "강제북송", "counselling"]
    static let shortQueries = ["탈북", "빚"]

    /// Section 6's searches on a replica just synced: the first search and the six queries
    /// before the index is built, the build, then the searches through the index.
    func measureSearch(_ replica: Replica, into result: inout SizeResult) throws {
        result.firstSearchSeconds = try timed { try replica.search(SearchQuery(Self.searchQueries[0])) }.1
        var before: [[SearchResult]] = []
        var times: [Double] = []
        for query in Self.searchQueries {
            let (found, seconds) = try timed { try replica.search(SearchQuery(query)) }
            before.append(found)
            times.append(seconds)
        }
        result.searchBeforeIndex = Percentiles(times)
        result.indexBuildSeconds = try timed { try replica.buildDeferredSearchIndex() }.1
        result.searchSameAfterIndex = try Self.searchQueries.map { try replica.search(SearchQuery($0)) } == before
        result.search = try searchLatencies(replica, queries: Self.searchQueries)
        result.searchShort = try searchLatencies(replica, queries: Self.shortQueries)
    }

    private func searchLatencies(_ replica: Replica, queries: [String]) throws -> Percentiles {
        for query in queries { _ = try replica.search(SearchQuery(query)) }  // Warm the cache.
        var times: [Double] = []
        for _ in 0..<5 {
            for query in queries { times.append(try timed { try replica.search(SearchQuery(query)) }.1) }
        }
        return Percentiles(times)
    }

    /// The floor of a first sync: the same rows into a replica of the same schema in one
    /// transaction, the search index deferred as a download of everything defers it; then, timed
    /// apart, that index built in one pass.
    private func rawInsert(_ rows: [(id: String, kind: String, state: String, deleted: Bool)], into file: String)
        throws -> (insert: Double, index: Double)
    {
        _ = try Replica.create(at: file, server: URL(string: "http://127.0.0.1:1")!, token: "unused")
        var configuration = Configuration()
        // The replica's own settings for its temporary files: on disk, each row's statement
        // journal (the search triggers make every insert a statement of several rows) cost this
        // floor a third of its time in /var/tmp.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY") }
        let queue = try DatabaseQueue(path: file, configuration: configuration)
        defer { try? queue.close() }
        try queue.write { db in
            try db.execute(
                sql: """
                    DROP TRIGGER search_documents_insert; DROP TRIGGER search_documents_delete;
                    DROP TRIGGER search_documents_update;
                    """)
        }
        let insert = try timed {
            try queue.write { db in
                let statement = try db.makeStatement(
                    sql: "INSERT INTO records (id, kind, state, deleted) VALUES (?, ?, ?, ?)")
                for row in rows {
                    try statement.execute(arguments: [row.id, row.kind, row.state, row.deleted])
                }
            }
        }.1
        let index = try timed {
            try queue.write { db in try db.execute(sql: "INSERT INTO search_index (search_index) VALUES ('rebuild')") }
        }.1
        return (insert, index)
    }
}

/// The records of a replica's rows as one JSON array, as the gzip floor compresses them.
func recordsJSON(_ rows: [(id: String, kind: String, state: String, deleted: Bool)]) -> Data {
    Data(("[" + rows.map(\.state).joined(separator: ",") + "]").utf8)
}
