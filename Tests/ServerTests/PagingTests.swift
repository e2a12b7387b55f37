import Foundation
import HavenCore
import HavenServer
import HummingbirdTesting
import Testing
import TestSupport

struct PagingTests {
    /// `count` stories, every `draftEvery`-th one a draft (0: all published).
    private func makePack(count: Int, draftEvery: Int = 0) -> ContentPack {
        ContentPack(
            records: (0..<count).map { index in
                let status = draftEvery > 0 && index % draftEvery == 0 ? "draft" : "published"
                var fields = Fields.story(
                    "Story \(index)", status: status, language: index.isMultiple(of: 2) ? "en" : "ko")
                fields["tags"] = ["pack", .string("n\(index)")]
                return ContentPack.Record(id: RecordID.random(), kind: .story, fields: fields)
            })
    }

    /// Pulls pages of `limit` until `more` is false.
    private func pullAll(_ client: any TestClientProtocol, token: String, limit: Int) async throws -> [PullResponse] {
        var pages: [PullResponse] = []
        var cursor: SyncCursor?
        repeat {
            let page = try await client.pull(token: token, since: cursor, limit: limit)
            pages.append(page)
            cursor = page.cursor
        } while pages.last!.more && pages.count < 100
        return pages
    }

    @Test(arguments: StorageBackend.all) func pagesOfFiftyCoverEveryRecordOnce(_ backend: StorageBackend) async throws {
        // Given 120 stories imported from a pack
        let server = try await TestServer.make(backend: backend)
        let pack = makePack(count: 120)
        let outcomes = try await PackImporter(log: server.log).importPack(pack)
        #expect(outcomes.written == 120)

        try await server.test { client in
            // When an editor pulls with limit=50
            let pages = try await pullAll(client, token: server["editor"], limit: 50)

            // Then it gets 50, 50 and 20 records, with more = true, true, false
            #expect(pages.map(\.changes.count) == [50, 50, 20])
            #expect(pages.map(\.more) == [true, true, false])
            // And the cursors strictly increase, ending at the head of the log
            // (mid-pull cursors keep their base and advance their paging position)
            let seqs = pages.map { $0.cursor.position ?? $0.cursor.seq }
            #expect(zip(seqs, seqs.dropFirst()).allSatisfy { $0 < $1 })
            #expect(seqs.last == 120)
            // And every record arrives exactly once, with the fields of the pack
            let ids = pages.flatMap(\.changes).map(\.id)
            #expect(ids.count == 120)
            #expect(Set(ids) == Set(pack.records.map(\.id)))
            let pulled = Dictionary(uniqueKeysWithValues: pages.flatMap(\.changes).map { ($0.id, $0) })
            for record in pack.records {
                #expect(pulled[record.id]?.values == record.fields)
            }
            // And a pull from the last cursor is empty
            let last = try await client.pull(token: server["editor"], since: pages.last!.cursor, limit: 50)
            #expect(last.changes.isEmpty && !last.more)
        }
    }

    @Test(arguments: StorageBackend.all) func readerPagesSkipDraftsButMissNothing(_ backend: StorageBackend) async throws {
        // Given 120 imported stories, every third a draft
        let server = try await TestServer.make(backend: backend)
        let pack = makePack(count: 120, draftEvery: 3)
        _ = try await PackImporter(log: server.log).importPack(pack)

        try await server.test { client in
            // When a reader pulls with limit=50
            let pages = try await pullAll(client, token: server["reader"], limit: 50)

            // Then it gets every published story exactly once, and no draft
            let published = pack.records.filter { $0.fields["status"] == "published" }.map(\.id)
            let ids = pages.flatMap(\.changes).map(\.id)
            #expect(ids.count == published.count)
            #expect(Set(ids) == Set(published))
            #expect(pages.map(\.more) == [true, true, false])
            #expect(pages.allSatisfy { $0.changes.count <= 50 })
        }
    }

    @Test(arguments: StorageBackend.all) func pagesAreBoundedByBytes(_ backend: StorageBackend) async throws {
        // Given a server whose pages hold about 2 KB, and 40 stories of about 300 bytes each
        let server = try await TestServer.make(backend: backend, configuration: ServerConfiguration(pageBytes: 2_000))
        let pack = makePack(count: 40)
        _ = try await PackImporter(log: server.log).importPack(pack)

        try await server.test { client in
            // When an editor pulls without a limit
            let pages = try await pullAll(client, token: server["editor"], limit: 500)

            // Then the pages are small, several, and together hold every record once
            #expect(pages.count > 3)
            #expect(pages.dropLast().allSatisfy { $0.more && !$0.changes.isEmpty })
            // Measured as a client of the current protocol gets them: registers sharing their record's stamp.
            let sizes = try pages.map { page in
                try page.changes.reduce(2) { $0 + 1 + (try CompactJSON.encode($1, style: .sharedStamps).count) }
            }
            #expect(sizes.allSatisfy { $0 <= 2_000 + 100 }, "\(sizes)")
            let ids = pages.flatMap(\.changes).map(\.id)
            #expect(ids.count == 40)
            #expect(Set(ids) == Set(pack.records.map(\.id)))
        }
    }

    @Test(arguments: StorageBackend.all) func importRejectsNothingAndCountsEachRecord(_ backend: StorageBackend) async throws {
        // Given a pack of a story and a resource
        let server = try await TestServer.make(backend: backend)
        let pack = ContentPack(records: [
            .init(id: RecordID.random(), kind: .story, fields: Fields.story("Imported", status: "published")),
            .init(id: RecordID.random(), kind: .resource, fields: Fields.resource("Imported hotline")),
        ])

        // When it is imported
        let first = try await PackImporter(log: server.log).importPack(pack)

        // Then both records are applied and readable by a reader
        #expect(first.written == 2)
        try await server.test { client in
            let pull = try await client.pull(token: server["reader"])
            #expect(Set(pull.changes.map(\.id)) == Set(pack.records.map(\.id)))
        }
    }
}
