import Foundation
import HavenCore
import Testing
import TestSupport

@testable import HavenClient
@testable import HavenCommands

/// What a Korean-speaking person reads (LANG=ko_KR.UTF-8): every sentence of `status`, of a sync's
/// summary and progress, of a server's refusal and of a refusal before saving is said in Korean,
/// the English is left as it was, and the codes a machine reads do not change.
@Suite(.temporaryDirectory)
struct KoreanOutputTests {
    /// `make()` in English and in Korean.
    private func both(_ make: () throws -> [String]) rethrows -> (english: [String], korean: [String]) {
        (try make(), try Language.$current.withValue(.korean) { try make() })
    }

    /// Each Korean line is a sentence in Korean where its English one has no Hangul.
    private func expectEveryLineSaidInKorean(
        _ lines: (english: [String], korean: [String]), sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(lines.english.count == lines.korean.count, sourceLocation: sourceLocation)
        for (english, korean) in zip(lines.english, lines.korean) {
            #expect(!hasHangul(english), "\(english)", sourceLocation: sourceLocation)
            #expect(hasHangul(korean), "not in Korean: \(korean)", sourceLocation: sourceLocation)
        }
    }

    @Test func everyStatusSentenceIsSaidInKorean() throws {
        // Given a replica with an unsent change, synced 12 minutes ago, whose token was checked
        let wallClock = ManualClock(Fixtures.epoch)
        let replica = try makeEmptyReplica(wallClock: wallClock)
        try replica.saveAccount(Account(name: "amina", role: .field, limits: ServerLimits()))
        try replica.apply(Fixtures.page([], cursor: Fixtures.cursor(1)))
        try replica.recordPullFinished()
        try replica.recordSyncFinished()
        try replica.add(.story, values: Fixtures.story())
        wallClock.now = Fixtures.epoch + 12 * 60_000
        let status = try replica.status()

        // When its status is printed in each language
        let lines = both { StatusCommand.lines(status) }

        // Then each sentence is in Korean, naming what a machine reads as it is
        expectEveryLineSaidInKorean(lines)
        #expect(lines.korean.contains("변경 1개가 보내기를 기다리고 있습니다: 'haven sync'를 실행하세요."), "\(lines.korean)")
        #expect(lines.korean.contains("마지막 동기화: 2024-11-14T22:13:20Z (12분 전)."), "\(lines.korean)")
        #expect(lines.korean[0].contains("(토큰: amina의 field 토큰)"), "\(lines.korean[0])")
        #expect(lines.english[0].hasSuffix("as amina's field token."), "\(lines.english[0])")
    }

    @Test func everySummaryLineAndTheProgressLineAreSaidInKorean() {
        // Given a sync that did everything a summary can tell
        var summary = SyncEngine.Summary()
        (summary.pushed, summary.applied, summary.duplicate, summary.rejected, summary.purged) = (9, 5, 1, 2, 1)
        (summary.pulledRecords, summary.pages, summary.removedRecords, summary.keptRecords) = (1_018, 2, 3, 1)
        (summary.retries, summary.batchSize, summary.pageSize) = (2, 25, 120)
        (summary.newConflicts, summary.restamped, summary.redownloaded) = (1, 4, true)
        let estimate = SyncProgress.PullEstimate(
            remainingRecords: 2_016, receivedBytes: 1_200_000, expectedBytes: 3_600_000, secondsLeft: 19.2)
        // The failure is put in words when it happens, in the task's language: here neither.
        let retrying = SyncProgress(summary: summary, retryingIn: 3.2, lastFailure: "LinkDropped()")

        // When they are printed, Then each line is in Korean
        let lines = both { SyncOptions.summaryLines(summary) }
        expectEveryLineSaidInKorean(lines)
        #expect(lines.korean[0] == "변경 9개를 보냈습니다 (5개 반영, 1개는 이미 서버에 있음, 2개 거부됨, 1개 버려짐). 기록 1018개를 받았습니다 (페이지 2개)")
        let progress = both {
            [SyncProgress(summary: summary, pull: estimate), retrying, SyncProgress(summary: .init())].map(ProgressLine.text)
        }
        expectEveryLineSaidInKorean((progress.english, progress.korean))
        #expect(progress.korean[0] == "기록 3034개 중 1018개 받음 (3.6 MB 중 1.2 MB), 약 20초 남음, 변경 9개 보냄")
        #expect(progress.english[0] == "received 1018 of 3034 records (1.2 MB of 3.6 MB), about 20 s left, sent 9 changes")
        #expect(progress.korean[1].hasSuffix(". 4초 뒤에 다시 시도: LinkDropped()"), "\(progress.korean[1])")
    }

    @Test func aRejectedChangeSaysWhatItsCodeMeansInKoreanQuotingTheServer() {
        let change = RejectedChange(
            changeID: "a1-1", recordID: RecordIDs.first, kind: .story, fields: ["status"],
            error: ErrorDetail(code: .forbidden, message: "status: field staff cannot publish"))
        let lines = both { rejectedLines([change]) }
        expectEveryLineSaidInKorean((Array(lines.english.prefix(1)), Array(lines.korean.prefix(1))))
        #expect(lines.english[1] == "  story \(RecordIDs.first) [status]: status: field staff cannot publish (forbidden)")
        #expect(
            lines.korean[1] == "  story \(RecordIDs.first) [status]: 이 토큰의 역할로는 할 수 없는 변경입니다 "
                + "(서버: status: field staff cannot publish (forbidden))")
    }

    @Test(arguments: [400, 401, 403, 404, 410, 429, 500])
    func aServersRefusalIsExplainedInKoreanQuotingTheServerAndItsCode(status: Int) {
        let error = ServerError(status: status, detail: ErrorDetail(code: .forbidden, message: "the server's words"))
        let korean = error.words.korean
        #expect(hasHangul(korean), "\(korean)")
        #expect(korean.contains("the server's words (forbidden)"), "\(korean)")
        #expect(!hasHangul(error.words.english))
    }

    @Test func aRefusalBeforeSavingIsSaidInKoreanWithItsCodeAndTheJSONCodeIsTheSame() throws {
        // Given a field replica holding a published story
        let replica = try makeEmptyReplica()
        try replica.saveAccount(Account(name: "amina", role: .field, limits: ServerLimits()))
        let id = RecordIDs.first
        try replica.apply(Fixtures.page(
            [Fixtures.storyDelta(id, Fixtures.story().merging(["status": "published"]) { $1 }, at: Fixtures.stamp(1))],
            cursor: Fixtures.cursor(1)))

        // When it edits the story, and adds one too large, in Korean
        let (role, size) = try Language.$current.withValue(.korean) {
            let role = #expect(throws: ClientError.self) { try replica.edit(id, values: ["title": "Changed"]) }
            let size = #expect(throws: ClientError.self) {
                try replica.add(.story, values: Fixtures.story(body: String(repeating: "탈", count: 99_000)))
            }
            return (try #require(role).message, try #require(size).message)
        }

        // Then both say in Korean what was refused and why, the code and field names as they are
        #expect(role.hasPrefix("저장하지 않았습니다: 기록 \(id): 게시된 이야기는 편집자(editor)만 고칠 수 있습니다 (forbidden)"), "\(role)")
        #expect(size.contains("262144바이트(256 KiB)를 넘습니다. 가장 큰 필드는 body입니다 (99000글자, 297000바이트)"), "\(size)")
        let failure = Language.$current.withValue(.korean) { CommandFailure(ClientError.noReplica("/tmp/x.sqlite")) }
        #expect(failure.code == .commandFailed)
        #expect(failure.message == "/tmp/x.sqlite에 복제본이 없습니다: 먼저 'haven init --server URL --token-file PATH'를 실행하세요")
    }

    @Test func aHostileOrBrokenServerIsExplainedInKoreanAndTheEnglishIsAsBefore() {
        // Given every answer no Haven server gives
        let violations: [ProtocolViolation] = [
            .redirect(status: 302, to: URL(string: "http://elsewhere.example:8080/login?token=x")),
            .tooLarge(limit: 64 << 20), .inflatesTooLarge(limit: 64 << 20), .undecodable(encoding: "gzip"),
            .unknownEncoding("br"), .cursorCameBack(Fixtures.cursor(3)), .invalidRemovedID("not-an-id"),
            .invalidRecord(.story, RecordIDs.first, Words("title: too long", korean: "title: 너무 깁니다")),
        ]

        // Then each is said in Korean, naming what a machine reads as it is, and English is unchanged
        for violation in violations {
            #expect(!hasHangul(violation.words.english), "\(violation.words.english)")
            #expect(hasHangul(violation.words.korean), "\(violation.words.korean)")
            Language.$current.withValue(.korean) { #expect(violation.message == violation.words.korean) }
        }
        #expect(violations[0].words.korean.contains("(302)") && violations[0].words.korean.contains("http://elsewhere.example:8080"))
        #expect(!violations[0].words.korean.contains("token=x"))
        #expect(
            violations[1].message
                == "the server's answer is larger than 64 MiB, more than a Haven server sends: nothing of it was stored and "
                + "unsent changes are kept; the server may be broken or not a Haven server: tell its admin, or check the "
                + "server address ('haven status')")
    }

    @Test func everyWordsInTheSourcesHasItsKoreanAndItIsKoreanWhereTheEnglishHasWords() throws {
        // Given every Words(english, korean:) written in Haven's sources
        let entries = try SwiftSourceScan.files().flatMap { SwiftSourceScan.wordsEntries(in: $0.code, file: $0.path) }
        #expect(entries.count > 300, "the scan found only \(entries.count)")
        #expect(entries.contains { $0.file == "ClientCommands/ArgumentHelp+Words.swift" })
        #expect(entries.contains { $0.file == "Core/PackImport.swift" })

        // Then none is left without its Korean, and the Korean is Korean wherever the English has words
        for entry in entries {
            #expect(entry.english.isEmpty || !entry.korean.isEmpty, "no Korean: \(entry)")
            if SwiftSourceScan.hasEnglishWords(entry.english) {
                #expect(hasHangul(entry.korean), "not said in Korean: \(entry)")
            }
        }
    }

    @Test func theCommandsPrintNoEnglishSentenceThatIsNotInWords() throws {
        // Given the string literals `haven`'s commands print, throw or show as help directly
        let commands = SwiftSourceScan.sources.appendingPathComponent("ClientCommands")
        let calls = [
            "print(", "ValidationError(", "ClientError(", "abstract: ", "discussion: ", "help: ", "ArgumentHelp(",
            "lines.append(", "Data(",
        ]
        let literals = try SwiftSourceScan.files(under: commands).flatMap {
            SwiftSourceScan.literals(after: calls, in: $0.code, file: $0.path)
        }
        #expect(literals.count > 5, "the scan found only \(literals.count)")

        // Then none holds an English sentence: each one is in Words, beside its Korean
        let english = literals.filter { SwiftSourceScan.hasEnglishWords($0.text) }
        #expect(english.isEmpty, "\(english)")
    }
}
