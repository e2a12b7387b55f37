import ArgumentParser
import Foundation
import GRDB
import HavenCore
import Testing
import TestSupport

@testable import HavenClient
@testable import HavenCommands

/// `haven search`: FTS5 trigram search over visible records, and the index following every write.
@Suite(.temporaryDirectory)
struct SearchTests {
    /// A replica holding a few stories and resources in English, Korean and Chinese.
    private func makeLibrary() throws -> (Replica, [String: String]) {
        let replica = try makeEmptyReplica()
        var ids: [String: String] = [:]
        ids["tumen"] = try replica.add(
            .story,
            values: [
                "title": "Crossing the Tumen", "summary": "A night crossing into China.",
                "body": "We waited for the guards to change, then walked across the frozen river.", "language": "en",
            ])
        ids["hanawon"] = try replica.add(
            .story,
            values: [
                "title": "하나원에서 보낸 첫 몇 달", "summary": "정착 교육의 기억",
                "body": "탈북민은 하나원에서 석 달 동안 한국 생활을 배운다. 처음에는 모든 것이 낯설었다.", "language": "ko",
            ])
        ids["women"] = try replica.add(
            .story,
            values: [
                "title": "중국에 있는 탈북 여성의 법적 공백", "body": "신분증이 없는 여성은 병원에도 갈 수 없다.", "language": "ko",
            ])
        ids["yanbian"] = try replica.add(
            .story,
            values: ["title": "延边的日子", "body": "她在延边朝鲜族自治州的一个村子里住了三年。", "language": "zh-Hans"])
        ids["hotline"] = try replica.add(
            .resource,
            values: [
                "name": "여성긴급전화 1366", "category": "hotline", "country": "KR", "languages": ["ko"],
                "description": "가정폭력과 성폭력 피해 여성을 위한 24시간 상담 전화. 탈북 여성도 이용할 수 있다.",
            ])
        ids["hana-center"] = try replica.add(
            .resource,
            values: [
                "name": "Hana Center", "category": "resettlement", "country": "KR", "languages": ["ko", "en"],
                "description": "Local help with housing and jobs for people who crossed the river.",
            ])
        return (replica, ids)
    }

    private func ids(_ results: [SearchResult]) -> [String] { results.map(\.id) }

    @Test func findsAnEnglishWordInTitlesSummariesAndBodies() throws {
        let (replica, ids) = try makeLibrary()

        #expect(Set(self.ids(try replica.search(SearchQuery("river")))) == [ids["tumen"]!, ids["hana-center"]!])
        #expect(self.ids(try replica.search(SearchQuery("NIGHT crossing"))) == [ids["tumen"]!])
        #expect(try replica.search(SearchQuery("submarine")).isEmpty)
    }

    @Test func findsKoreanFromATwoSyllableQuery() throws {
        // Given Korean records that hold 탈북 in a title, a body and a resource description
        let (replica, ids) = try makeLibrary()

        // When searching for the two syllables, shorter than a trigram
        let results = try replica.search(SearchQuery("탈북"))

        // Then all three are found, the title match first, with a snippet around the word
        #expect(Set(self.ids(results)) == [ids["hanawon"]!, ids["women"]!, ids["hotline"]!])
        #expect(results.first?.id == ids["women"])
        #expect(results.first?.languages == ["ko"])
        let hanawon = try #require(results.first { $0.id == ids["hanawon"] })
        #expect(hanawon.snippet.contains("탈북민은 하나원에서"))
        #expect(hanawon.title == "하나원에서 보낸 첫 몇 달")
    }

    @Test func findsKoreanFromAThreeSyllableQuery() throws {
        let (replica, ids) = try makeLibrary()

        #expect(self.ids(try replica.search(SearchQuery("탈북민"))) == [ids["hanawon"]!])
        #expect(self.ids(try replica.search(SearchQuery("하나원"))) == [ids["hanawon"]!])
        // Mixed: an indexed term and a short one must both appear.
        #expect(self.ids(try replica.search(SearchQuery("하나원 석 달"))) == [ids["hanawon"]!])
        #expect(try replica.search(SearchQuery("하나원 여성")).isEmpty)
    }

    @Test(arguments: ["延边", "朝鲜族", "自治州的一个村子"])
    func findsChineseText(query: String) throws {
        let (replica, ids) = try makeLibrary()

        let results = try replica.search(SearchQuery(query))

        #expect(self.ids(results) == [ids["yanbian"]!])
        #expect(results.first?.languages == ["zh-Hans"])
    }

    @Test(arguments: [
        (SearchQuery("탈북", kind: .story), ["hanawon", "women"]),
        (SearchQuery("탈북", kind: .resource), ["hotline"]),
        (SearchQuery("river", kind: .resource), ["hana-center"]),
        (SearchQuery("river", language: "en"), ["tumen", "hana-center"]),
        (SearchQuery("river", language: "ko"), ["hana-center"]),
        (SearchQuery("river", kind: .story, language: "ko"), []),
        (SearchQuery("延边", language: "zh"), ["yanbian"]),
        (SearchQuery("延边", language: "ZH-hans"), ["yanbian"]),
        (SearchQuery("延边", language: "ko"), []),
    ])
    func filtersByKindAndLanguage(query: SearchQuery, expected: [String]) throws {
        let (replica, ids) = try makeLibrary()

        #expect(Set(self.ids(try replica.search(query))) == Set(expected.map { ids[$0]! }))
    }

    @Test(arguments: ["border", "강"])
    func titleMatchRanksAboveBodyOnlyMatch(query: String) throws {
        // Given a story that mentions the word several times in its body, added first, and one
        // with it once in its title
        let replica = try makeEmptyReplica()
        let inBody = try replica.add(
            .story,
            values: Fixtures.story(
                "A long walk", body: "The \(query) was near. We reached the \(query) at dawn; the \(query) was guarded."
            ))
        let inSummary = try replica.add(
            .story,
            values: Fixtures.story("Waiting", body: "Nothing here.").merging(["summary": .string("Near the \(query).")])
            { $1 })
        let inTitle = try replica.add(.story, values: Fixtures.story("The \(query) at night", body: "We left."))
        try replica.add(.story, values: Fixtures.story("Unrelated", body: "Nothing to see."))

        // When searching
        let results = try replica.search(SearchQuery(query))

        // Then title first, then summary, then body
        #expect(ids(results) == [inTitle, inSummary, inBody])
    }

    @Test func respectsTheLimit() throws {
        let (replica, _) = try makeLibrary()

        #expect(try replica.search(SearchQuery("탈북", limit: 2)).count == 2)
        #expect(try replica.search(SearchQuery("탈북", limit: 0)).isEmpty)
    }

    @Test func deletedRecordsAreNotFoundUntilRestored() throws {
        let (replica, ids) = try makeLibrary()

        try replica.delete(ids["women"]!)
        #expect(self.ids(try replica.search(SearchQuery("법적 공백"))).isEmpty)
        #expect(!self.ids(try replica.search(SearchQuery("탈북"))).contains(ids["women"]!))

        try replica.restore(ids["women"]!)
        #expect(self.ids(try replica.search(SearchQuery("법적 공백"))) == [ids["women"]!])
    }

    @Test func indexFollowsLocalEdits() throws {
        let (replica, ids) = try makeLibrary()

        try replica.edit(ids["tumen"]!, values: ["title": "Crossing the Yalu", "summary": .null])

        #expect(self.ids(try replica.search(SearchQuery("Yalu"))) == [ids["tumen"]!])
        #expect(try replica.search(SearchQuery("Tumen")).isEmpty)
        #expect(try replica.search(SearchQuery("night crossing")).isEmpty)
        #expect(self.ids(try replica.search(SearchQuery("frozen river"))) == [ids["tumen"]!])
        try expectIndexInStep(replica)
    }

    @Test func indexFollowsPulledPages() throws {
        // Given a replica that pulls a new story
        let replica = try makeEmptyReplica()
        let id = RecordIDs.first, other = RecordIDs.second
        let s = { (offset: UInt64) in Fixtures.stamp(Fixtures.epoch - 100_000 + offset) }
        try replica.apply(
            Fixtures.page(
                [
                    Fixtures.storyDelta(id, Fixtures.story("두만강을 건너", body: "밤에 떠났다."), at: s(1)),
                    Fixtures.storyDelta(other, Fixtures.story("Other", body: "Another river."), at: s(1)),
                ], cursor: Fixtures.cursor(1), more: true))
        #expect(ids(try replica.search(SearchQuery("두만강"))) == [id])

        // When a later page edits its title, then one deletes it
        try replica.apply(
            Fixtures.page([Fixtures.storyDelta(id, ["title": "압록강을 건너"], at: s(2))], cursor: Fixtures.cursor(2)))
        #expect(try replica.search(SearchQuery("두만강")).isEmpty)
        #expect(ids(try replica.search(SearchQuery("압록강"))) == [id])
        try replica.apply(
            Fixtures.page([Fixtures.storyDelta(id, [:], at: s(3), deleted: true)], cursor: Fixtures.cursor(3)))
        #expect(try replica.search(SearchQuery("압록강")).isEmpty)

        // And a page removes the other record from view
        #expect(ids(try replica.search(SearchQuery("river"))) == [other])
        try replica.apply(Fixtures.page([], removed: [other], cursor: Fixtures.cursor(4)))

        // Then neither is found
        #expect(try replica.search(SearchQuery("river")).isEmpty)
        try expectIndexInStep(replica)
    }

    @Test func aDownloadOfEverythingIsFoundBeforeAndAfterItsIndexIsBuiltInOnePass() throws {
        // Given a replica with a story written before its first sync
        let replica = try makeEmptyReplica()
        let local = try replica.add(.story, values: Fixtures.story("Typed before the first sync"))
        let s = { (offset: UInt64) in Fixtures.stamp(Fixtures.epoch - 100_000 + offset) }

        // When it downloads everything over two pages, and the local story is edited in between
        try replica.apply(
            Fixtures.page(
                [Fixtures.storyDelta(RecordIDs.first, Fixtures.story("두만강을 건너", body: "밤에 떠났다."), at: s(1))],
                cursor: SyncCursor(epoch: Fixtures.cursor(1).epoch, seq: 0, position: 1), more: true))
        #expect(try replica.isSearchIndexDeferred())
        try replica.edit(local, values: ["title": "Retitled while downloading"])
        try replica.apply(
            Fixtures.page(
                [Fixtures.storyDelta(RecordIDs.second, Fixtures.story("Market in Yanji"), at: s(2))],
                cursor: Fixtures.cursor(2)))
        #expect(try replica.isSearchIndexDeferred())

        // Then searches find all of it before the index is built, the edit included
        let queries = ["두만강", "Yanji", "Retitled", "Typed before"].map { SearchQuery($0) }
        let found = try queries.map { ids(try replica.search($0)) }
        #expect(found == [[RecordIDs.first], [RecordIDs.second], [local], []])
        #expect(try replica.isSearchIndexDeferred())

        // And the same after it is built in one pass
        #expect(try replica.buildDeferredSearchIndex() == 3)
        #expect(try !replica.isSearchIndexDeferred())
        #expect(try queries.map { ids(try replica.search($0)) } == found)
        try expectIndexInStep(replica)

        // And later writes are indexed as they happen again
        try replica.edit(RecordIDs.second, values: ["title": "Market in Tumen"])
        try replica.apply(
            Fixtures.page([Fixtures.storyDelta(RecordIDs.first, [:], at: s(3), deleted: true)], cursor: Fixtures.cursor(3)))
        #expect(try !replica.isSearchIndexDeferred())
        #expect(ids(try replica.search(SearchQuery("Tumen"))) == [RecordIDs.second])
        #expect(try replica.search(SearchQuery("두만강")).isEmpty)
        try expectIndexInStep(replica)
    }

    @Test func indexFollowsRecordsDroppedBySync() throws {
        // Given a pulled story and a local one with an unsent change
        let replica = try makeEmptyReplica()
        try replica.apply(
            Fixtures.page(
                [
                    Fixtures.storyDelta(
                        RecordIDs.first, Fixtures.story("Pulled story"), at: Fixtures.stamp(Fixtures.epoch - 1))
                ],
                cursor: Fixtures.cursor(1)))
        let local = try replica.add(.story, values: Fixtures.story("Local story"))

        // When the cursor is forgotten, records without unsent changes are dropped
        try replica.forgetCursor()
        #expect(ids(try replica.search(SearchQuery("story"))) == [local])

        // And when the server refuses the local change as purged, that record goes too
        let change = try #require(try replica.pendingChanges(limit: 1).first)
        try replica.acknowledge(
            PushResponse(
                results: [
                    PushResult(
                        id: change.id, status: .rejected, error: ErrorDetail(code: .recordPurged, message: "purged"))
                ], serverTime: Fixtures.epoch))
        #expect(try replica.search(SearchQuery("story")).isEmpty)
        try expectIndexInStep(replica)
    }

    @Test func migrationIndexesRecordsAlreadyInAVersionOneReplica() throws {
        // Given a replica file written before search existed, with a live and a deleted story
        let path = TemporaryDirectory.path("old.sqlite")
        let pool = try DatabasePool(path: path)
        try Replica.migrator.migrate(pool, upTo: "v1")
        let live = Fixtures.storyDelta(RecordIDs.first, Fixtures.story("탈북 이야기", body: "Body."), at: Fixtures.stamp(1))
        var gone = Fixtures.storyDelta(RecordIDs.second, Fixtures.story("탈북 기록", body: "Body."), at: Fixtures.stamp(1))
        gone.deleted = Register(.bool(true), stamp: Fixtures.stamp(2))
        try pool.write { db in
            try db.execute(
                sql:
                    "INSERT INTO meta (key, value) VALUES ('server', 'http://haven.test'), ('token', 't'), ('replica_id', 'a1')"
            )
            for record in [live, gone] {
                try db.execute(
                    sql: "INSERT INTO records (id, kind, state, deleted) VALUES (?, 'story', ?, ?)",
                    arguments: [record.id, try Replica.json(record), record.isDeleted])
            }
        }
        try pool.close()

        // When it is opened by this version
        let replica = try Replica.open(at: path)

        // Then the live story is found and the deleted one is not
        #expect(ids(try replica.search(SearchQuery("탈북"))) == [RecordIDs.first])
        #expect(ids(try replica.search(SearchQuery("탈북 이야기"))) == [RecordIDs.first])
        try expectIndexInStep(replica)
    }

    @Test(arguments: [
        "\"", "%", "_", "\\", "a*", "NEAR(a b)", "river AND OR NOT", "\"frozen river\"", "'; DROP TABLE records; --",
        "^ri",
    ])
    func querySyntaxIsTakenLiterally(query: String) throws {
        let (replica, _) = try makeLibrary()

        _ = try replica.search(SearchQuery(query))

        #expect(try replica.records().count == 6)
    }

    @Test func percentAndUnderscoreMatchOnlyThemselves() throws {
        let replica = try makeEmptyReplica()
        let percent = try replica.add(.story, values: Fixtures.story("Rent up 5% this year", body: "B."))
        try replica.add(.story, values: Fixtures.story("Rent up 50 this year", body: "B."))

        #expect(ids(try replica.search(SearchQuery("5%"))) == [percent])
        #expect(try replica.search(SearchQuery("_")).isEmpty)
    }

    @Test func searchCommandParsesItsOptions() throws {
        let command = try HavenCommand.parseAsRoot([
            "search", "탈북", "여성", "--kind", "story", "--language", "ko", "--limit", "5", "--json",
        ])

        let search = try #require(command as? SearchCommand)
        #expect(search.searchQuery == SearchQuery("탈북 여성", kind: .story, language: "ko", limit: 5))
        #expect(search.json)
    }

    @Test(arguments: [
        (["search", " "], "give at least one word to search for"),
        (["search", "x", "--limit", "0"], "--limit must be from 1 to 1000"),
        (["search", "x", "--language", "korean!"], "--language must be a language tag"),
        (["search", "x", "--kind", "person"], "The value 'person' is invalid for '--kind <kind>'"),
    ])
    func searchCommandRefusesBadOptionsByName(arguments: [String], message: String) throws {
        let error = #expect(throws: (any Error).self) { try HavenCommand.parseAsRoot(arguments) }

        let text = error.map { HavenCommand.message(for: $0) } ?? ""
        #expect(text.hasPrefix(message), "\(text)")
    }

    @Test func searchOfAFewThousandRecordsFindsThroughTheIndexAndByScan() throws {
        // Given 3,000 pulled stories of about a kilobyte each, in Korean and English
        let replica = try makeEmptyReplica()
        let filler = String(repeating: "정착 지원과 교육, 일자리와 주거에 관한 이야기. Settlement, jobs and housing. ", count: 12)
        for pageIndex in 0..<6 {
            let changes = (0..<500).map { index in
                let number = pageIndex * 500 + index
                let id = String(format: "%08x-0000-4000-8000-%012x", number, number)
                let title = number % 100 == 0 ? "탈북 여성 이야기 \(number)" : "Story \(number)"
                return Fixtures.storyDelta(
                    id, Fixtures.story(title, body: filler + " river \(number)"), at: Fixtures.stamp(Fixtures.epoch - 1)
                )
            }
            try replica.apply(
                Fixtures.page(changes, cursor: Fixtures.cursor(Int64(pageIndex + 1)), more: pageIndex < 5))
        }

        // When searching through the index and by scan (timed in BENCHMARKS.md, section 6)
        let indexed = try replica.search(SearchQuery("river 2999"))
        let scanned = try replica.search(SearchQuery("탈북"))
        let common = try replica.search(SearchQuery("housing"))

        // Then each finds what it should, at most a page of 20
        #expect(indexed.count == 1)
        #expect(scanned.count == 20)
        #expect(scanned.allSatisfy { $0.title.hasPrefix("탈북") })
        #expect(common.count == 20)
    }

    /// The FTS index agrees with its content table, which holds exactly the visible records.
    private func expectIndexInStep(_ replica: Replica, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try replica.database.write { db in
            try db.execute(sql: "INSERT INTO search_index (search_index, rank) VALUES ('integrity-check', 1)")
            let documents = try String.fetchAll(db, sql: "SELECT record_id FROM search_documents ORDER BY record_id")
            let visible = try String.fetchAll(db, sql: "SELECT id FROM records WHERE deleted = 0 ORDER BY id")
            #expect(documents == visible, sourceLocation: sourceLocation)
        }
    }
}
