import Foundation
import HavenCore
import HavenServer
import Testing
import TestSupport

/// The two storage backends give identical answers (issue 7): one seeded script of pushes by
/// every role (creates, edits from stale cursors, deletes, restores, publishing, duplicates,
/// refused changes), paged pulls with every role and page size, and compactions, run on SQLite
/// and on PostgreSQL. Every answer (push results, pages with their cursors, removed ids and
/// conflicts, compaction counts, expired cursors) must match, once the store's random epoch and
/// token ids are replaced by fixed names.
///
/// The behaviour itself is checked by the suites that run on both backends (PushPullTests,
/// PagingTests, CompactionTests, ConflictTests, VisibilityTests, RoleMatrixTests, TokenTests,
/// HealthTests); this suite checks that nothing differs between them.
struct BackendConformanceTests {
    @Test(.enabled(if: StorageBackend.all.contains(.postgres)), arguments: [11, 12, 13] as [UInt64])
    func sameScriptGivesTheSameAnswersOnBothBackends(seed: UInt64) async throws {
        // Given the same seeded script
        // When it runs on SQLite and on PostgreSQL
        let sqlite = try await transcript(on: .sqlite, seed: seed)
        let postgres = try await transcript(on: .postgres, seed: seed)

        // Then every answer is the same, in the same order
        #expect(sqlite.count == postgres.count)
        let firstDifference = zip(sqlite, postgres).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(
            firstDifference == nil,
            "answer \(firstDifference?.offset ?? 0) differs:\nSQLite:     \(firstDifference?.element.0 ?? "")\nPostgreSQL: \(firstDifference?.element.1 ?? "")"
        )
        // and the script exercised what it is meant to
        let all = sqlite.joined(separator: "\n")
        for expected in ["\"applied\"", "\"duplicate\"", "\"rejected\"", "\"forbidden\"", "\"removed\":[\"", "\"reason\"",
            "\"more\":true", "cursor_expired", "record_purged"]
        {
            #expect(all.contains(expected), "the script never produced \(expected)")
        }
    }

    /// Runs the script for `seed` on a fresh store of `backend` and returns every answer as
    /// sorted-key JSON, with the epoch and token ids replaced by fixed names.
    private func transcript(on backend: StorageBackend, seed: UInt64) async throws -> [String] {
        let server = try await TestServer.make(backend: backend)
        let store = server.log
        var random = SplitMix64(seed: seed)
        let writers = ["admin", "editor", "editor2", "field", "field2", "reader"]
        let readers = writers
        var devices = Dictionary(uniqueKeysWithValues: writers.map { ($0, Device("dev\($0)")) })
        var cursors: [String: SyncCursor] = [:]
        var records: [(id: String, kind: RecordKind)] = []
        var sent: [String: [Change]] = [:]
        var answers: [String] = []
        var now = TestServer.now

        func caller(_ name: String) -> Caller {
            Caller(tokenID: server.ids[name]!, name: name, role: TestServer.roles.first { $0.name == name }!.role)
        }
        func record(_ value: some Encodable) throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var text = String(decoding: try encoder.encode(value), as: UTF8.self).replacingOccurrences(
                of: server.store.epoch, with: "EPOCH")
            for (name, id) in server.ids { text = text.replacingOccurrences(of: id, with: "token-\(name)") }
            answers.append(text)
        }

        for step in 0..<240 {
            now += UInt64(random.int(in: 1...6)) * 3_600_000  // Hours pass between steps.
            switch random.int(in: 0...99) {
            case 0..<55:
                let name = random.pick(writers)
                var batch: [Change] = []
                for _ in 0..<random.int(in: 1...4) {
                    batch.append(makeChange(by: name, device: &devices[name]!, records: &records, base: cursors[name], &random))
                }
                // A repeated push of this writer's own change (another's would be a new change).
                if random.chance(15), let old = sent[name]?.last { batch.append(old) }
                sent[name, default: []] += batch
                let results = try await store.push(batch, by: caller(name), now: now, review: server.configuration.review)
                try record(["step": "\(step) push by \(name)", "results": String(describing: results.map(\.status))])
                try record(results)
            case 55..<92:
                let name = random.pick(readers)
                let limit = random.pick([2, 5, 50])
                var more = true
                while more {
                    let since = cursors[name]
                    do {
                        let page = try await store.pull(
                            since: since, limit: limit, maxBytes: random.pick([600, 1 << 20]), for: caller(name))
                        try record(PullResponse(page, serverTime: 0))
                        cursors[name] = page.cursor
                        more = page.more
                    } catch let expired as CursorExpired {
                        try record(["step": "\(step) pull by \(name)", "error": "cursor_expired", "detail": "\(expired)"])
                        cursors[name] = nil
                    }
                }
            default:
                let summary = try await store.compact(retention: 2 * 86_400_000, now: now)
                try record(summary)
            }
        }
        return answers
    }

    /// One change by `name`: a new record, an edit, a delete, a restore or a publish, now and
    /// then a malformed one.
    private func makeChange(
        by name: String, device: inout Device, records: inout [(id: String, kind: RecordKind)], base: SyncCursor?,
        _ random: inout SplitMix64
    ) -> Change {
        let choice = random.int(in: 0...99)
        if records.isEmpty || choice < 30 {
            let kind: RecordKind = random.chance(70) ? .story : .resource
            let id = random.uuid()
            records.append((id, kind))
            let fields =
                kind == .story
                ? Fields.story(
                    "Story \(records.count)", status: random.pick(["draft", "published"]),
                    sensitivity: random.pick(["public", "restricted"]), language: random.pick(["en", "ko"]))
                : Fields.resource("Resource \(records.count)")
            return device.change(id, kind, fields, base: base)
        }
        let (id, kind) = random.pick(records)
        switch choice {
        case 30..<60:
            let field = kind == .story ? random.pick(["title", "summary", "body"]) : random.pick(["name", "notes"])
            return device.change(id, kind, [field: .string("\(field) by \(name) #\(random.int(in: 0...999))")], base: base)
        case 60..<72:
            return device.change(id, kind, deleted: true, base: base)
        case 72..<80:
            return device.change(id, kind, deleted: false, base: base)
        case 80..<92:
            return device.change(id, kind, ["status": .string(random.pick(["draft", "published"]))], base: base)
        case 92..<96:
            return device.change("Not-A-UUID", kind, ["title": "Broken"], base: base)
        default:
            // The wrong kind for the record.
            return device.change(id, kind == .story ? .resource : .story, ["name": "Wrong kind"], base: base)
        }
    }
}

extension PullResponse {
    /// The wire answer to a page, as the server sends it.
    init(_ page: PullPage, serverTime: UInt64) {
        self.init(
            changes: page.changes, removed: page.removed, conflicts: page.conflicts, cursor: page.cursor,
            more: page.more, serverTime: serverTime, remaining: page.remaining)
    }
}
