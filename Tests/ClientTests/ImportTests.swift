import ArgumentParser
import Foundation
import HavenCore
import Testing
import TestSupport

@testable import HavenClient
@testable import HavenCommands

/// `haven import`: content packs as local edits in the outbox.
@Suite(.temporaryDirectory)
struct ImportTests {
    /// The demo pack the repository ships.
    private static let demoPack = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Content/demo-pack.json")

    private func runImport(_ replica: Replica, _ file: String) throws {
        var command = try HavenCommand.parseAsRoot(["import", file, "--replica", replica.path])
        try command.run()
    }

    private func write(_ pack: String, to name: String = "pack.json") throws -> String {
        let path = TemporaryDirectory.path(name)
        try Data(pack.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Each record an import writes keeps a statement journal of the pages it changes (the search
    /// triggers make it a statement of several rows): in memory, not a file of record pages in
    /// /var/tmp written 20 KiB a record.
    @Test func aReplicaKeepsItsTemporaryFilesInMemory() throws {
        let replica = try makeEmptyReplica()
        let pack = try ContentPack.decode(Data(contentsOf: Self.demoPack))
        try replica.importPack(pack)
        #expect(try replica.database.read { db in try Int.fetchOne(db, sql: "PRAGMA temp_store") } == 2)
        #expect(try replica.database.write { db in try Int.fetchOne(db, sql: "PRAGMA temp_store") } == 2)
    }

    /// GRDB sets NORMAL on the writer as it turns WAL on: what was typed would survive a killed
    /// app but not a dead battery.
    @Test func aReplicaCommitsWithSynchronousFull() throws {
        let replica = try makeEmptyReplica()
        #expect(try replica.database.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2)
    }

    @Test func importsTheDemoPackAsUnsentChanges() throws {
        // Given an empty replica and the demo pack
        let replica = try makeEmptyReplica()
        let pack = try ContentPack.decode(Data(contentsOf: Self.demoPack))

        // When it is imported
        let summary = try replica.importPack(pack)

        // Then every record is added, each as one unsent change holding all its fields
        #expect(summary.added == pack.records.count)
        #expect(summary.updated == 0 && summary.unchanged == 0)
        #expect(try replica.status().unsentChanges == pack.records.count)
        let changes = try replica.pendingChanges(limit: 1000)
        #expect(changes.map(\.record.id) == pack.records.map(\.id))
        #expect(changes.map(\.record.values) == pack.records.map(\.fields))
        #expect(try replica.exportPack().withoutVersions.canonicalJSON() == pack.canonicalJSON())
    }

    @Test func importingTheSamePackAgainChangesNothing() throws {
        let replica = try makeEmptyReplica()
        let pack = try ContentPack.decode(Data(contentsOf: Self.demoPack))
        try replica.importPack(pack)

        let summary = try replica.importPack(pack)

        #expect(summary == ImportSummary(unchanged: pack.records.count))
        #expect(try replica.status().unsentChanges == pack.records.count)
    }

    @Test func recordsAlreadyPresentGetOnlyTheFieldsThatDiffer() throws {
        // Given a story with a summary and a region
        let replica = try makeEmptyReplica()
        try replica.add(
            .story, values: Fixtures.story("Old title").merging(["summary": "Short.", "region": "Seoul"]) { $1 },
            id: RecordIDs.first)

        // When a pack brings a new title, the same body, no region and a null summary (overwriting,
        // as the pack does not say when it was made)
        let summary = try replica.importPack(
            ContentPack(records: [
                .init(
                    id: RecordIDs.first, kind: .story,
                    fields: Fixtures.story("New title").merging(["summary": .null]) { $1 }),
                .init(id: RecordIDs.second, kind: .story, fields: Fixtures.story("Another")),
            ]), overwrite: true)

        // Then the title changes and the summary is cleared, in one change; the region stays
        #expect(summary == ImportSummary(added: 1, updated: 1))
        let record = try replica.record(RecordIDs.first)
        #expect(
            record.values.filter { $0.value != .null }
                == Fixtures.story("New title").merging(["region": "Seoul"]) { $1 })
        #expect(record.values["summary"] == .null)
        let changes = try replica.pendingChanges(limit: 10)
        #expect(changes.count == 3)
        #expect(changes[1].record.id == RecordIDs.first)
        #expect(changes[1].record.values == ["title": "New title", "summary": .null])
        #expect(changes[2].record.values == Fixtures.story("Another"))
    }

    @Test func recordsDeletedHereStayDeleted() throws {
        let replica = try makeEmptyReplica()
        try replica.add(.story, values: Fixtures.story("Gone"), id: RecordIDs.first)
        try replica.delete(RecordIDs.first)

        let summary = try replica.importPack(
            ContentPack(records: [.init(id: RecordIDs.first, kind: .story, fields: Fixtures.story("Back again"))]))

        #expect(summary.keptDeleted == [RecordIDs.first])
        #expect(try replica.record(RecordIDs.first).isDeleted)
        #expect(try replica.record(RecordIDs.first).fields.isEmpty)
        #expect(try replica.status().unsentChanges == 2)
    }

    @Test(arguments: [
        (
            """
            {"format":"haven-pack/1","records":[
              {"id":"abcd1111-0000-4000-8000-000000000001","kind":"story","fields":{"title":"T","body":"B","language":"en"}},
              {"id":"abcd2222-0000-4000-8000-000000000002","kind":"story","fields":{"title":"T","body":"B","language":"english"}}]}
            """,
            "record 2 (abcd2222-0000-4000-8000-000000000002): language: must be a BCP 47 language tag"
        ),
        (
            """
            {"format":"haven-pack/1","records":[
              {"id":"abcd1111-0000-4000-8000-000000000001","kind":"story","fields":{"title":"T","body":"B","language":"en"}},
              {"id":"abcd2222-0000-4000-8000-000000000002","kind":"resource","fields":{"name":"N","category":"other"}}]}
            """,
            "record 2 (abcd2222-0000-4000-8000-000000000002): country"
        ),
        (
            """
            {"format":"haven-pack/2","records":[]}
            """,
            "format is 'haven-pack/2'"
        ),
        ("{\"format\":\"haven-pack/1\",\"records\":[{\"id\":\"x\"", "not a content pack: invalid JSON"),
    ])
    func badPackIsRefusedNamingTheRecordAndNothingIsSaved(pack: String, message: String) throws {
        // Given an empty replica and a pack whose second record is bad
        let replica = try makeEmptyReplica()
        let file = try write(pack)

        // When `haven import` reads it
        let error = #expect(throws: (any Error).self) { try runImport(replica, file) }

        // Then it names the file and the record, and nothing is saved
        let text = error.map { HavenCommand.message(for: $0) } ?? ""
        #expect(text.contains("\(file): \(message)"), "\(text)")
        #expect(text.hasSuffix("nothing was imported"), "\(text)")
        #expect(try replica.records(includeDeleted: true).isEmpty)
        #expect(try replica.status().unsentChanges == 0)
    }

    @Test func recordOfAnotherKindHereRefusesTheWholePack() throws {
        // Given a replica holding a story
        let replica = try makeEmptyReplica()
        try replica.add(.story, values: Fixtures.story(), id: RecordIDs.second)

        // When a pack adds one record, then brings a resource with the story's id
        let error = #expect(throws: ClientError.self) {
            try replica.importPack(
                ContentPack(records: [
                    .init(id: RecordIDs.first, kind: .story, fields: Fixtures.story("New")),
                    .init(
                        id: RecordIDs.second, kind: .resource,
                        fields: ["name": "N", "category": "other", "country": "KR"]),
                ]))
        }

        // Then nothing of the pack is saved, and the message names the record
        #expect(
            error?.message
                == "record 2 (\(RecordIDs.second)): it is a story here, not a resource; nothing was imported"
        )
        #expect(try replica.records().map(\.id) == [RecordIDs.second])
        #expect(try replica.status().unsentChanges == 1)
    }

    @Test func exportThenImportIntoAnotherReplicaRoundTrips() throws {
        // Given a replica with pulled records (an unknown field, Korean text, a tombstone) and local edits
        let source = try makeEmptyReplica(named: "source.sqlite")
        let s = { (offset: UInt64) in Fixtures.stamp(Fixtures.epoch - 100_000 + offset) }
        try source.apply(
            Fixtures.page(
                [
                    Fixtures.storyDelta(RecordIDs.first, Fixtures.story("두만강을 건너", body: "밤에 떠났다."), at: s(1)),
                    RecordState(
                        id: RecordIDs.second, kind: .resource,
                        fields: [
                            "name": Register("Hana Center", stamp: s(2)),
                            "category": Register("resettlement", stamp: s(2)),
                            "country": Register("KR", stamp: s(2)),
                            "customField": Register(.object(["a": 1, "b": [.double(1.5), true]]), stamp: s(2)),
                        ]),
                    Fixtures.storyDelta(RecordIDs.third, Fixtures.story("Gone"), at: s(3), deleted: true),
                ], cursor: Fixtures.cursor(1)))
        try source.edit(RecordIDs.first, values: ["tags": ["routes", "china"], "summary": "짧은 요약"])
        try source.add(.story, values: Fixtures.story("Local only"), id: RecordIDs.fourth)

        // When it exports with `haven export` and another replica imports the file
        let file = TemporaryDirectory.path("export.json")
        var export = try HavenCommand.parseAsRoot(["export", file, "--replica", source.path])
        try export.run()
        let target = try makeEmptyReplica(named: "target.sqlite")
        try runImport(target, file)

        // Then the second replica exports the same bytes and holds the records as unsent changes
        #expect(
            try target.exportPack().withoutVersions.canonicalJSON()
                == ContentPack.decode(Data(contentsOf: URL(fileURLWithPath: file))).withoutVersions.canonicalJSON())
        #expect(try target.status().unsentChanges == 3)
        #expect(try target.records().map(\.id) == [RecordIDs.fourth, RecordIDs.first, RecordIDs.second])
        #expect(try target.importPack(ContentPack.decode(Data(contentsOf: URL(fileURLWithPath: file)))).unchanged == 3)
    }

    @Test func largePackReportsProgressAndTakesOneTransaction() throws {
        // Given a pack of 2,000 stories
        let replica = try makeEmptyReplica()
        let records = (0..<2_000).map { number in
            ContentPack.Record(
                id: String(format: "%08x-0000-4000-8000-%012x", number, number), kind: .story,
                fields: Fixtures.story("Story \(number)", body: "Body of story \(number)."))
        }

        // When it is imported
        var reports: [Int] = []
        let summary = try replica.importPack(ContentPack(records: records), progress: { reports.append($0) })

        // Then progress came every 500 records, and every record is searchable and unsent
        #expect(summary.added == 2_000)
        #expect(reports == [500, 1_000, 1_500, 2_000])
        #expect(try replica.status().unsentChanges == 2_000)
        #expect(try replica.search(SearchQuery("Story 1999")).map(\.id) == [records[1_999].id])
    }

    /// `count` stories numbered from `first`, with ids to match, in English and Korean.
    private static func stories(_ count: Int, from first: Int = 0) -> [ContentPack.Record] {
        (first..<first + count).map { number in
            ContentPack.Record(
                id: String(format: "%08x-0000-4000-8000-%012x", number, number), kind: .story,
                fields: Fixtures.story(
                    number % 2 == 0 ? "Story \(number) of the river" : "이야기 \(number): 국경을 넘어",
                    body: number % 3 == 0 ? "We crossed at night, \(number) of us." : "밤에 강을 건넜다. 탈북 \(number)."))
        }
    }

    @Test func aLargeImportIndexesOnceAndSearchFindsWhatRowByRowImportsFind() throws {
        // Given the same 1,200 stories imported into one replica at once, and into another in
        // parts too small to leave the index for later
        let records = Self.stories(1_200)
        let atOnce = try makeEmptyReplica(named: "at-once.sqlite")
        try atOnce.importPack(ContentPack(records: records))
        let inParts = try makeEmptyReplica(named: "in-parts.sqlite")
        for start in stride(from: 0, to: records.count, by: 400) {
            try inParts.importPack(ContentPack(records: Array(records[start..<start + 400])))
        }

        // Then only the large import left the index to be built in one pass
        #expect(try atOnce.isSearchIndexDeferred())
        #expect(try !inParts.isSearchIndexDeferred())

        // And every search finds the same records, in the same order, with the same snippets
        for query in ["Story 11", "국경을", "night", "탈북", "river 1198"] {
            let found = try atOnce.search(SearchQuery(query, limit: 50)).map { [$0.id, $0.title, $0.snippet] }
            #expect(!found.isEmpty, "\(query)")
            #expect(try inParts.search(SearchQuery(query, limit: 50)).map { [$0.id, $0.title, $0.snippet] } == found, "\(query)")
        }
        #expect(try atOnce.status().unsentChanges == 1_200)
    }

    @Test func aSmallImportIntoALargerReplicaKeepsIndexingRowByRow() throws {
        // Given a replica holding 1,500 stories, indexed
        let replica = try makeEmptyReplica()
        try replica.importPack(ContentPack(records: Self.stories(1_500)))
        try replica.buildDeferredSearchIndex()

        // When 1,000 more are imported: fewer than it holds, so indexing them costs less than indexing all
        try replica.importPack(ContentPack(records: Self.stories(1_000, from: 1_500)))

        // Then the index was kept up to date as they were written
        #expect(try !replica.isSearchIndexDeferred())
        #expect(try replica.search(SearchQuery("Story 2498")).map(\.id) == [Self.stories(1, from: 2_498)[0].id])
    }

    @Test func anIdTwiceInAPackIsImportedAsIfItsPartsCameOneAfterTheOther() throws {
        // Given 300 stories, the last with the first's id and a title of its own (a pack made
        // in code: a pack file naming an id twice is refused when it is read)
        var records = Self.stories(300)
        records[299] = .init(id: records[0].id, kind: .story, fields: Fixtures.story("Told again", body: "Once more."))

        // When it is imported at once (records encoded ahead in batches), and into another
        // replica in two imports, the last record alone
        let atOnce = try makeEmptyReplica(named: "at-once.sqlite")
        let whole = try atOnce.importPack(ContentPack(records: records))
        let inTwo = try makeEmptyReplica(named: "in-two.sqlite")
        let first = try inTwo.importPack(ContentPack(records: Array(records.prefix(299))))
        let second = try inTwo.importPack(ContentPack(records: [records[299]]))

        // Then the second write found the first stored, as the second import did
        #expect(try atOnce.record(records[0].id).values == inTwo.record(records[0].id).values)
        #expect(try atOnce.status().unsentChanges == inTwo.status().unsentChanges)
        #expect(whole.added == first.added + second.added && whole.updated == first.updated + second.updated)
        #expect(whole.skipped.count == first.skipped.count + second.skipped.count)
        #expect(whole.added == 299)
    }

    @Test func aRefusedRecordIsTheErrorEvenWhenALaterOneIsMalformed() throws {
        // Given a field replica, and a pack whose first story is published (field staff may not
        // publish) and whose third is a resource with a story's id
        let replica = try makeEmptyReplica()
        try replica.saveAccount(Account(name: "amina", role: .field, limits: ServerLimits()))
        try replica.add(.story, values: Fixtures.story("Crossing alone"), id: RecordIDs.first)
        var records = Self.stories(3)
        records[0].fields["status"] = "published"
        let alone = #expect(throws: ClientError.self) { try replica.importPack(ContentPack(records: [records[0]])) }
        records[2] = .init(id: RecordIDs.first, kind: .resource, fields: ["name": "N", "category": "other", "country": "KR"])

        // When it is imported, Then the first record's refusal is the error, as if each record
        // were stored as it came, and nothing is saved
        let error = #expect(throws: ClientError.self) { try replica.importPack(ContentPack(records: records)) }
        #expect(error?.message == alone?.message && alone != nil)
        #expect(try replica.status().unsentChanges == 1)
    }

    @Test func aLargeImportWithOneBadRecordSavesNothingAndKeepsTheIndexLive() throws {
        // Given a replica holding a story, and 1,500 stories of which number 1,100 is a resource
        // with that story's id
        let replica = try makeEmptyReplica()
        try replica.add(.story, values: Fixtures.story("Crossing alone"), id: RecordIDs.first)
        var records = Self.stories(1_500)
        records[1_099] = .init(id: RecordIDs.first, kind: .resource, fields: ["name": "N", "category": "other", "country": "KR"])

        // When they are imported
        let error = #expect(throws: ClientError.self) { try replica.importPack(ContentPack(records: records)) }

        // Then the bad record is named and nothing of the pack is saved
        #expect(error?.message == "record 1100 (\(RecordIDs.first)): it is a story here, not a resource; nothing was imported")
        #expect(try replica.records().map(\.id) == [RecordIDs.first])
        #expect(try replica.status().unsentChanges == 1)

        // And the index is still kept row by row: the next edit is found without a rebuild
        #expect(try !replica.isSearchIndexDeferred())
        try replica.edit(RecordIDs.first, values: ["title": "Crossing together"])
        #expect(try !replica.isSearchIndexDeferred())
        #expect(try replica.search(SearchQuery("together")).map(\.id) == [RecordIDs.first])
    }
}

extension ContentPack {
    /// The pack as a hand-made one would be: no versions.
    var withoutVersions: ContentPack {
        var pack = self
        pack.records = records.map { ContentPack.Record(id: $0.id, kind: $0.kind, fields: $0.fields) }
        return pack
    }
}

extension ImportSummary {
    init(added: Int = 0, updated: Int = 0, unchanged: Int = 0) {
        self.init()
        self.added = added
        self.updated = updated
        self.unchanged = unchanged
    }
}
