import HavenCore
import Testing

@testable import HavenClient

/// The sync's rules on the state machine alone, as tables: what each answer, failure or page
/// leads to, with no server, no replica and no clock.
struct SyncStateMachineTests {
    typealias Machine = SyncStateMachine
    typealias Action = SyncStateMachine.Action

    static let configuration = SyncEngine.Configuration(batchSize: 100, pageLimit: 100, pageBytes: nil)
    static let cursor = SyncCursor(epoch: "e", seq: 7)

    static func pushing(batch: Int = 100) -> Machine {
        var machine = Machine(.push, configuration: configuration, batchSize: batch, pageSize: nil)
        _ = machine.start()
        return machine
    }

    static func pulling(from cursor: SyncCursor? = cursor, wait: Double = 0) -> Machine {
        var machine = Machine(.pull(from: cursor, wait: wait), configuration: configuration, batchSize: nil, pageSize: nil)
        _ = machine.start()
        return machine
    }

    static func page(_ seq: Int64, more: Bool, records: Int = 0) -> PullResponse {
        let changes = (0..<records).map { _ in RecordState(id: RecordID.random(), kind: .resource) }
        return PullResponse(
            changes: changes, conflicts: [], cursor: SyncCursor(epoch: "e", seq: seq), more: more, serverTime: 0,
            remaining: more ? 50 : nil)
    }

    // MARK: - Failures (RetryPolicy's rule 1; SyncAndResume, rules 4 and 6)

    /// What a failure leads to, by what was under way: `random` 0.5 draws half the ceiling.
    static let failures: [(String, Machine, Machine.Failure, Action)] = [
        ("push, link", pushing(), .link, .retry(after: 0.05, .push(limit: 50))),
        ("push, 503", pushing(), .transient(retryAfter: nil), .retry(after: 0.25, .push(limit: 50))),
        ("push, 429 Retry-After 3", pushing(), .transient(retryAfter: 3), .retry(after: 3, .push(limit: 50))),
        ("push, 403", pushing(), .permanent, .fail),
        ("push, 404", pushing(), .notFound, .fail),
        ("push, 410", pushing(), .cursorGone, .fail),
        ("push, 413 of many", pushing(), .tooLarge, .push(limit: 50)),
        ("push, 413 of one", pushing(batch: 1), .tooLarge, .rejectAlone),
        ("stream, link", pulling(), .link, .retry(after: 0.05, .pullStream(since: cursor))),
        ("stream, 410 with a cursor", pulling(), .cursorGone, .forgetCursor),
        ("stream, 410 without one", pulling(from: nil), .cursorGone, .fail),
        ("stream, 404", pulling(), .notFound, .pullPage(since: cursor, limit: 100, wait: 0)),
        ("stream, 413", pulling(), .tooLarge, .fail),
        ("page, link", pulling(wait: 25), .link, .retry(after: 0.05, .pullPage(since: cursor, limit: 50, wait: 25))),
        ("page, 404", pulling(wait: 25), .notFound, .fail),
        ("page, 410", pulling(wait: 25), .cursorGone, .forgetCursor),
    ]

    @Test(arguments: 0..<failures.count)
    func aFailureLeadsToItsRule(row: Int) {
        var (name, machine, failure, expected) = Self.failures[row]
        #expect(machine.failed(failure, now: 0, random: 0.5) == expected, "\(name)")
    }

    @Test func aStallGivesUpAtItsBudgetAndAnAnswerEndsIt() {
        let configuration = SyncEngine.Configuration(retry: RetryPolicy(maxAttempts: 3))
        var machine = Machine(.push, configuration: configuration, batchSize: 8, pageSize: nil)
        #expect(machine.start() == .push(limit: 8))
        #expect(machine.failed(.link, now: 0, random: 0) == .retry(after: 0, .push(limit: 4)))
        #expect(machine.failed(.link, now: 1, random: 0) == .retry(after: 0, .push(limit: 2)))
        #expect(machine.pushAnswered(.init(sent: 2, seconds: 5, applied: 2)) == .push(limit: 2))
        // The answer began a new stall: two more failures are allowed before the third gives up
        #expect(machine.failed(.link, now: 2, random: 0) == .retry(after: 0, .push(limit: 1)))
        #expect(machine.failed(.link, now: 3, random: 0) == .retry(after: 0, .push(limit: 1)))
        #expect(machine.failed(.link, now: 4, random: 0) == .giveUp)
        #expect(machine.summary.retries == 4)
    }

    @Test func aBudgetInSecondsCountsTheStallNotTheSync() {
        let configuration = SyncEngine.Configuration(retry: RetryPolicy(base: 10, cap: 10, budget: 15))
        var machine = Machine(.pull(from: nil, wait: 0), configuration: configuration, batchSize: nil, pageSize: nil)
        _ = machine.start()
        #expect(machine.failed(.transient(retryAfter: nil), now: 100, random: 1) == .retry(after: 10, .pullStream(since: nil)))
        // 10 s into the stall, another 10 s wait would end past the 15 s budget
        #expect(machine.failed(.transient(retryAfter: nil), now: 110, random: 1) == .giveUp)
    }

    @Test func aFailedPushHalvesTheBatchSizeOrWhatTheByteLimitLetThrough() {
        // A push of one change (all the outbox held) that failed halves the size, not the one
        var few = Self.pushing(batch: 100)
        few.sending(1)
        #expect(few.failed(.link, now: 0, random: 0) == .retry(after: 0, .push(limit: 50)))
        // A batch the byte limit cut to 6 halves to 3
        var cut = Self.pushing(batch: 100)
        cut.sending(6, cutByBytes: true)
        #expect(cut.failed(.link, now: 0, random: 0) == .retry(after: 0, .push(limit: 3)))
    }

    @Test func aServerWithoutTheStreamEndsTheStallAndIsPulledPageByPage() {
        let configuration = SyncEngine.Configuration(pageLimit: 100, retry: RetryPolicy(maxAttempts: 2), pageBytes: nil)
        var machine = Machine(.pull(from: nil, wait: 0), configuration: configuration, batchSize: nil, pageSize: nil)
        #expect(machine.start() == .pullStream(since: nil))
        #expect(machine.failed(.link, now: 0, random: 0) == .retry(after: 0, .pullStream(since: nil)))
        #expect(machine.failed(.notFound, now: 0, random: 0) == .pullPage(since: nil, limit: 100, wait: 0))
        // The 404 was an answer: the next failure starts a new stall instead of giving up
        #expect(machine.failed(.link, now: 0, random: 0) == .retry(after: 0, .pullPage(since: nil, limit: 50, wait: 0)))
    }

    // MARK: - Push answers (SyncAndResume, rules 5 and 7)

    /// What follows an answer, by what it said.
    static let answers: [(String, Machine.PushAnswer, Action, Int)] = [
        ("quick and full, at the maximum: stays", .init(sent: 100, seconds: 1, applied: 100), .push(limit: 100), 100),
        ("quick, not full: stays", .init(sent: 40, seconds: 1, applied: 40), .push(limit: 100), 100),
        ("slow: halves", .init(sent: 100, seconds: 20, applied: 100), .push(limit: 50), 50),
        ("cut by bytes and slow: half what was sent", .init(sent: 10, cutByBytes: true, seconds: 20, applied: 10), .push(limit: 5), 5),
        ("clock_ahead: restamp", .init(sent: 100, seconds: 1, applied: 98, clockAhead: 2), .restampChangesAhead, 100),
        ("change_id_conflict: new id", .init(sent: 100, seconds: 1, applied: 99, idConflicts: 1), .takeNewIdentity, 100),
    ]

    @Test(arguments: 0..<answers.count)
    func anAnswerLeadsToItsRule(row: Int) {
        let (name, answer, expected, size) = Self.answers[row]
        var machine = Self.pushing(batch: 100)
        #expect(machine.pushAnswered(answer) == expected, "\(name)")
        #expect(machine.batchSize.current == size, "\(name)")
    }

    @Test func aBatchGrowsByHalfUpToTheMaximum() {
        var machine = Self.pushing(batch: 40)
        #expect(machine.pushAnswered(.init(sent: 40, seconds: 1, applied: 40)) == .push(limit: 60))
        #expect(machine.pushAnswered(.init(sent: 60, seconds: 1, applied: 60)) == .push(limit: 90))
        #expect(machine.pushAnswered(.init(sent: 90, seconds: 1, applied: 90)) == .push(limit: 100))
        #expect(machine.outboxEmpty() == .finished)
        #expect(machine.summary.pushed == 190 && machine.summary.applied == 190)
    }

    @Test func clockAheadRestampsOncePerPushThenStaysRejected() {
        var machine = Self.pushing()
        #expect(machine.pushAnswered(.init(sent: 3, seconds: 1, applied: 1, clockAhead: 2)) == .restampChangesAhead)
        #expect(machine.restamped(2) == .push(limit: 100))
        // Refused again in the same push: no second restamp, they stay rejected
        #expect(machine.pushAnswered(.init(sent: 2, seconds: 1, clockAhead: 2)) == .push(limit: 100))
        #expect(machine.summary.restamped == 2)
        #expect(machine.summary.rejected == 2)
    }

    @Test func changesThatCouldNotBeRestampedAreRejected() {
        var machine = Self.pushing()
        #expect(machine.pushAnswered(.init(sent: 2, seconds: 1, clockAhead: 2)) == .restampChangesAhead)
        #expect(machine.restamped(0) == .push(limit: 100))
        #expect(machine.summary.rejected == 2)
    }

    @Test func bothRefusalsInOneAnswerAreMendedInTurn() {
        var machine = Self.pushing()
        #expect(machine.pushAnswered(.init(sent: 3, seconds: 1, applied: 1, clockAhead: 1, idConflicts: 1)) == .restampChangesAhead)
        #expect(machine.restamped(1) == .takeNewIdentity)
        #expect(machine.renamed(4) == .push(limit: 100))
        #expect(machine.pushAnswered(.init(sent: 1, seconds: 1, idConflicts: 1)) == .push(limit: 100))
        #expect(machine.summary.restamped == 5)
        #expect(machine.summary.rejected == 1)
    }

    @Test func aChangeTooLargeAloneIsRejectedAndThePushGoesOn() {
        var machine = Self.pushing()
        machine.sending(1)
        #expect(machine.failed(.tooLarge, now: 0, random: 0) == .rejectAlone)
        #expect(machine.rejectedAlone() == .push(limit: 100))
        #expect(machine.summary.rejected == 1)
        // A batch cut by bytes to 6 that is still too large asks for 3
        machine.sending(6)
        #expect(machine.failed(.tooLarge, now: 0, random: 0) == .push(limit: 3))
    }

    // MARK: - Pulls (SyncAndResume, rules 3, 6 and 8)

    @Test func aStreamCutBeforeTheHeadResumesFromItsLastPage() throws {
        var machine = Self.pulling()
        try machine.received([Self.page(8, more: true, records: 3), Self.page(9, more: true, records: 2)])
        #expect(machine.applied(.init(), bytes: 500) == .readStream)
        #expect(machine.summary.pages == 2 && machine.summary.pulledRecords == 5)
        #expect(machine.pullEstimate(after: 1)?.remainingRecords == 50)
        // Cut: the next stream starts from the last page applied
        #expect(machine.failed(.link, now: 0, random: 0) == .retry(after: 0, .pullStream(since: SyncCursor(epoch: "e", seq: 9))))
        try machine.received([Self.page(10, more: true)])
        _ = machine.applied(.init(), bytes: 10)
        // Ended cleanly before the head: opened again from there
        #expect(machine.streamEnded(now: 1, random: 0) == .pullStream(since: SyncCursor(epoch: "e", seq: 10)))
        let head = Self.page(11, more: false)
        try machine.received([head])
        _ = machine.applied(.init(), bytes: 10)
        #expect(machine.streamEnded(now: 2, random: 0) == .checkPublishedSet(head, retried: false))
        #expect(machine.checked(.verified, cursor: head.cursor) == .finished)
        #expect(machine.summary.publishedSet == .verified)
    }

    @Test func aStreamThatEndsWithNoPageCountsAsACutLink() {
        var machine = Self.pulling()
        #expect(machine.streamEnded(now: 0, random: 0) == .retry(after: 0, .pullStream(since: Self.cursor)))
        #expect(machine.summary.retries == 1)
    }

    @Test func aCursorThatComesBackWithMoreIsAProtocolViolation() throws {
        var machine = Self.pulling()
        try machine.received([Self.page(8, more: true)])
        _ = machine.applied(.init(), bytes: 0)
        #expect(throws: ProtocolViolation.self) { try machine.received([Self.page(8, more: true)]) }
        // The cursor the pull started from counts too
        var again = Self.pulling()
        #expect(throws: ProtocolViolation.self) { try again.received([Self.page(7, more: true)]) }
    }

    @Test func anExpiredCursorDownloadsEverythingAgain() throws {
        var machine = Self.pulling()
        #expect(machine.failed(.cursorGone, now: 0, random: 0) == .forgetCursor)
        #expect(machine.forgotCursor() == .pullStream(since: nil))
        #expect(machine.summary.redownloaded)
        // The cursors reached before are forgotten with it: the server's may start over
        try machine.received([Self.page(7, more: true)])
    }

    @Test func aFailedSignatureDownloadsOnceMoreFromTheLastVerifiedState() throws {
        var machine = Self.pulling()
        let head = Self.page(9, more: false)
        try machine.received([head])
        _ = machine.applied(.init(), bytes: 0)
        #expect(machine.streamEnded(now: 0, random: 0) == .checkPublishedSet(head, retried: false))
        #expect(machine.checked(.retrying, cursor: Self.cursor) == .pullStream(since: Self.cursor))
        try machine.received([head])
        _ = machine.applied(.init(), bytes: 0)
        #expect(machine.streamEnded(now: 0, random: 0) == .checkPublishedSet(head, retried: true))
        #expect(machine.checked(.failed, cursor: Self.cursor) == .finished)
    }

    @Test func pagesGrowWhenQuickAndFullAndShrinkWhenSlowOrFailed() throws {
        var configuration = SyncEngine.Configuration(pageLimit: 16, pageBytes: nil)
        configuration.streams = false
        var machine = Machine(.pull(from: nil, wait: 0), configuration: configuration, batchSize: nil, pageSize: 4)
        #expect(machine.start() == .pullPage(since: nil, limit: 4, wait: 0))
        try machine.received([Self.page(1, more: true, records: 4)], seconds: 1)
        #expect(machine.applied(.init(), bytes: 400) == .pullPage(since: SyncCursor(epoch: "e", seq: 1), limit: 6, wait: 0))
        #expect(machine.pullEstimate(after: 1)?.remainingRecords == 50)
        try machine.received([Self.page(2, more: true, records: 6)], seconds: 20)
        #expect(machine.applied(.init(), bytes: 600) == .pullPage(since: SyncCursor(epoch: "e", seq: 2), limit: 3, wait: 0))
        #expect(machine.failed(.link, now: 0, random: 0) == .retry(after: 0, .pullPage(since: SyncCursor(epoch: "e", seq: 2), limit: 1, wait: 0)))
        #expect(machine.pageSize.current == 1)
    }

    @Test func aLongPollThatWaitedSaysNothingOfTheLink() throws {
        var machine = Self.pulling(wait: 25)
        try machine.received([Self.page(8, more: false)], seconds: 25)
        #expect(machine.applied(.init(), bytes: 0) == .checkPublishedSet(Self.page(8, more: false), retried: false))
        #expect(machine.pageSize.current == 100)
    }
}
