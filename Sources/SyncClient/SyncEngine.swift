import Foundation
import HavenCore
import HavenTrust

/// Push the outbox in batches, then pull pages until the server has nothing more, by the rules
/// of <doc:SyncAndResume>.
///
/// The engine does the I/O; every decision (retry or stop, the sizes, restamping, forgetting a
/// cursor, resuming) is ``SyncStateMachine``'s, which it asks after each answer. It holds no state
/// of its own between steps: the outbox, the cursor and the adaptive sizes live in the replica
/// and move forward one transaction at a time (<doc:SyncAndResume>, rule 3).
///
/// A pull that does not wait streams (``ServerAPI/pullStream(since:limit:chunkBytes:receive:)``):
/// one request brings every page, and the pages that have arrived whole are applied with their
/// cursors, several in one transaction when they arrived during the last commit (PageQueue.swift).
/// A cut loses only the page under way: the pages before it are applied, and the stream resumes
/// from the last one.
public struct SyncEngine: Sendable {
    /// How a sync sizes its requests, retries and waits.
    public struct Configuration: Sendable {
        /// The largest batch and page unless a command says otherwise. A server whose page limit
        /// is lower serves its own limit instead: the client need not know it.
        public static let defaultBatchSize = 1000
        /// The most records a pull page asks for, unless a command says otherwise.
        public static let defaultPageLimit = 500
        /// The JSON a push request is asked to stay under (before gzip): a quarter of the
        /// server's default body limit, so a batch is a few requests' worth of fsyncs, not hundreds.
        public static let defaultBatchBytes = 2 << 20

        /// Most changes per push request; the batch adapts below it.
        public var batchSize: Int
        /// The JSON a push request stays under (a single larger change still goes alone); nil
        /// sends ``batchSize`` changes whatever their size.
        public var batchBytes: Int?
        /// Most records per pull page; the page adapts below it.
        public var pageLimit: Int
        /// When to retry and when to give up.
        public var retry: RetryPolicy
        /// A full request answered within this many seconds grows the next one.
        public var quickRequest: Double
        /// A request answered after this many seconds shrinks the next one.
        public var slowRequest: Double
        /// Seconds the server may hold an empty pull open in ``SyncEngine/watch(into:)``.
        public var longPollWait: Double
        /// The bytes a page is asked to stay under while the pull has received less than ten times
        /// as much (``SyncStateMachine``, rule 1); nil asks for ``pageLimit`` records whatever their size.
        public var pageBytes: Int?
        /// Whether a pull that does not wait streams (<doc:SyncAndResume>, rule 8).
        public var streams = true
        /// The JSON bytes a streamed page should stay near; nil for the server's choice.
        public var streamChunkBytes: Int?

        /// A configuration; every value has a default fit for a person's `haven sync`.
        public init(
            batchSize: Int = defaultBatchSize, pageLimit: Int = defaultPageLimit, retry: RetryPolicy = RetryPolicy(),
            quickRequest: Double = 2, slowRequest: Double = 15, longPollWait: Double = 25, pageBytes: Int? = 32 << 10,
            batchBytes: Int? = defaultBatchBytes
        ) {
            self.batchSize = batchSize
            self.batchBytes = batchBytes
            self.pageLimit = pageLimit
            self.retry = retry
            self.quickRequest = quickRequest
            self.slowRequest = slowRequest
            self.longPollWait = longPollWait
            self.pageBytes = pageBytes
        }
    }

    let replica: Replica
    /// The server this engine talks to; its ``ServerAPI/traffic`` counts every byte and keeps
    /// the account fingerprint the answers carried.
    public let api: ServerAPI
    let configuration: Configuration
    let clock: SyncClock
    let random: @Sendable () -> Double
    let progress: (@Sendable (SyncProgress) -> Void)?

    /// A sync of `replica` with the server `api` reaches, sized and retried by `configuration`.
    ///
    /// - Parameters:
    ///   - replica: the replica to sync.
    ///   - api: its server, with its token (``ReplicaSettings/serverAPI()``).
    ///   - configuration: sizes, retries and waits.
    ///   - clock: monotonic time and sleep; tests pass one that does not wait.
    ///   - random: numbers in 0..<1 for the backoff's jitter.
    ///   - progress: called after every page, batch and failure.
    public init(
        replica: Replica, api: ServerAPI, configuration: Configuration = .init(), clock: SyncClock = .continuous,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        progress: (@Sendable (SyncProgress) -> Void)? = nil
    ) {
        self.replica = replica
        self.api = api
        self.configuration = configuration
        self.clock = clock
        self.random = random
        self.progress = progress
    }

    /// What a sync did, for people and for `--json`.
    public struct Summary: Sendable, Codable, Equatable {
        /// Changes sent, counting a change sent again after `clock_ahead` twice.
        public var pushed = 0
        /// Changes the server wrote to its log.
        public var applied = 0
        /// Changes the server already had (a batch sent again after a lost answer).
        public var duplicate = 0
        /// Changes the server refused, or too large to send alone; kept in the outbox.
        public var rejected = 0
        /// Unsent changes dropped, with their records, because the server had deleted and purged
        /// those records.
        public var purged = 0
        /// Changes stamped again after `clock_ahead`, or under a new replica id after
        /// `change_id_conflict`.
        public var restamped = 0
        /// Records received, and records dropped because the token may no longer see them.
        public var pulledRecords = 0
        /// Records dropped because the token may no longer see them.
        public var removedRecords = 0
        /// Records the token may no longer see, kept because they hold changes the server has not
        /// accepted yet (see ``Replica/AppliedPage/kept``).
        public var keptRecords = 0
        /// Pages applied.
        public var pages = 0
        /// Conflicts the server reported for this replica's writes.
        public var newConflicts = 0
        /// Whether the server had forgotten the cursor (410) and everything was downloaded again.
        public var redownloaded = false
        /// Body bytes on the wire, compressed where they were.
        public var bytesSent = 0
        /// Body bytes received, compressed where they were.
        public var bytesReceived = 0
        /// Requests repeated after a failure or a 413.
        public var retries = 0
        /// Seconds the sync took.
        public var elapsed = 0.0
        /// The sizes the link allowed at the end, which the next sync starts from.
        public var batchSize = 0
        /// The pull page size the link allowed at the end.
        public var pageSize = 0
        /// What the last check of the publisher's signature found (Replica+Verification.swift);
        /// nil when no pull reached the head.
        public var publishedSet: Replica.PublishedSetCheck?
        /// Records no verified signature covers after the sync.
        public var unverifiedRecords = 0
        /// Media files uploaded whole.
        public var mediaUploaded = 0
        /// Media files downloaded whole.
        public var mediaDownloaded = 0
        /// Bytes of media sent, pieces sent again included.
        public var mediaBytesSent = 0
        /// Bytes of media received, pieces received again included.
        public var mediaBytesReceived = 0
        /// Media files whose upload failed; the changes naming them wait (``Replica/failingMedia()``).
        public var mediaFailed = 0

        /// An empty summary, to add a push or a pull to.
        public init() {}
    }

    /// Pushes every pending change, then pulls until up to date.
    public func sync() async throws -> Summary {
        var summary = Summary()
        try await push(into: &summary)
        try await pull(into: &summary)
        try replica.dropUnnamedMedia()
        try replica.recordSyncFinished()
        return summary
    }

    /// Keeps the replica current until the task is cancelled: pushes, pulls, then long-polls
    /// (``Configuration/longPollWait``), pushing new local edits between polls. Cancellation
    /// ends it between transactions, never inside one. It also ends after a pull whose
    /// publisher's signature failed twice (``SyncStateMachine``, rule 2): the summary says so.
    public func watch(into summary: inout Summary) async throws {
        do {
            // The first pull catches up without waiting (streamed, SyncAndResume rule 8); the next ones long-poll.
            var wait = 0.0
            // The fingerprint the answers carried when the account was last settled: a role
            // changed while the device watches is what its next edit is checked against, and
            // the account is asked for once for each fingerprint heard (nil: a server from
            // before fingerprints), not at every poll.
            var settledFor: String?? = .none
            while true {
                try Task.checkCancellation()
                try await push(into: &summary)
                try await pull(into: &summary, wait: wait)
                wait = configuration.longPollWait
                let heard = api.traffic.accountFingerprint
                if settledFor != .some(heard), await refreshAccount() { settledFor = heard }
                try Task.checkCancellation()  // The request swallows it.
                // Files of records deleted or no longer visible leave the device as in `sync()`.
                try replica.dropUnnamedMedia()
                try replica.recordSyncFinished()
                // A process that stays builds the index a download deferred, between polls
                // (searches meanwhile read the text); `sync()` leaves it to the app or `haven search`.
                try replica.buildDeferredSearchIndex()
                // Polling on would download the same unverified pages again and again.
                if summary.publishedSet == .failed { return }
            }
        } catch is CancellationError {
            return
        }
    }

    /// Asks the server again who the token is (`GET /v1/me`) and keeps the answer, so that a
    /// role an admin changed is what the next edit is checked against; unless the answers so far
    /// carried the fingerprint of the account the replica holds, which spares a request, and on a
    /// slow link a round trip, after almost every sync. Asked after a sync that got through; a
    /// failure here changes nothing, the sync having said what it had to. Nothing is asked when
    /// the replica has meanwhile been given another server or token (`haven login`).
    ///
    /// - Returns: whether the replica holds the account the server states: false when asking failed.
    @discardableResult
    public func refreshAccount() async -> Bool {
        guard let held = try? replica.settings() else { return false }
        // Another token or server meanwhile (`haven login`), whose account was asked for then.
        guard held.server == api.server, held.token == api.token else { return true }
        if let seen = api.traffic.accountFingerprint, seen == held.accountFingerprint { return true }
        guard let account = try? await api.me() else { return false }
        return (try? replica.saveAccount(account)) != nil
    }

    /// Sends the outbox, batch by batch, until no pending change is left.
    public func push(into summary: inout Summary) async throws {
        let settings = try replica.settings()
        var machine = SyncStateMachine(
            .push, configuration: configuration, batchSize: settings.batchSize, pageSize: settings.pageSize, summary: summary)
        defer { summary = machine.summary }
        try await run(&machine)
    }

    /// Pulls pages until the server says there is no more; each page is applied with its cursor.
    ///
    /// - Parameters:
    ///   - summary: what the sync has done so far; the pull adds to it.
    ///   - wait: seconds the server may hold an empty answer open for new changes.
    public func pull(into summary: inout Summary, wait: Double = 0) async throws {
        let settings = try replica.settings()
        var machine = SyncStateMachine(
            .pull(from: settings.cursor, wait: wait), configuration: configuration, batchSize: settings.batchSize,
            pageSize: settings.pageSize, summary: summary)
        defer { summary = machine.summary }
        try await run(&machine)
    }

    /// Does what `machine` says until it is finished: the I/O of a push or a pull, whose
    /// decisions are all the machine's.
    private func run(_ machine: inout SyncStateMachine) async throws {
        let started = clock.now()
        var saved = (batch: machine.batchSize, page: machine.pageSize)
        defer {
            machine.summary.elapsed += clock.now() - started
            machine.summary.batchSize = machine.batchSize.current
            machine.summary.pageSize = machine.pageSize.current
        }
        var failedMedia: Set<String> = []
        var acknowledging: Acknowledgement?
        var next: NextBatch?
        var batch = Replica.PendingBatch(ids: [], bodies: [], cutByBytes: false)
        var lastError: any Error = CancellationError()
        var action = machine.start()
        while true {
            // Not while an answer is being written: the write would wait behind it.
            if acknowledging == nil, (machine.batchSize, machine.pageSize) != saved {
                try replica.saveSyncSizes(batch: machine.batchSize.current, page: machine.pageSize.current)
                saved = (machine.batchSize, machine.pageSize)
            }
            switch action {
            case .push(let limit):
                // Sent as stored: the outbox's JSON goes out without being decoded and encoded again.
                // The changes of a batch whose answer is still being written are not sent again.
                let sent = acknowledging?.ids ?? []
                var body: ServerAPI.PushBody?
                if let ready = try await writtenIfFails(&acknowledging, { try await next?.take(limit: limit, replica: replica) }) {
                    (batch, body) = ready
                } else {
                    let pending = try await writtenIfFails(&acknowledging) {
                        try replica.pendingBatch(limit: limit, maxBytes: configuration.batchBytes ?? .max, excluding: sent)
                    }
                    // The files the changes name go first; a change naming one that failed waits.
                    batch = try await writtenIfFails(&acknowledging) {
                        pending.isEmpty ? pending : try await uploadMedia(for: pending, failed: &failedMedia, into: &machine.summary)
                    }
                    guard !batch.isEmpty else {
                        // Once the last answer is written, the outbox is looked at again as it is.
                        if try await Self.written(&acknowledging) { continue }
                        action = machine.outboxEmpty()
                        continue
                    }
                }
                next = nil
                machine.sending(batch.count, cutByBytes: batch.cutByBytes)
                // The next batch is read and compressed while the server takes this one: the
                // server otherwise waited for it after every answer (a fifth of a push).
                if batch.count == limit || batch.cutByBytes, (try? replica.holdsMediaNotOnServer()) == false {
                    next = NextBatch(
                        limit: limit, excluding: sent.union(batch.ids), maxBytes: configuration.batchBytes ?? .max,
                        replica: replica, api: api)
                }
                let exchanged: Result<(PushResponse, Double), any Error>
                do {
                    exchanged = .success(
                        try await exchange(&machine.summary) { [batch, body] in try await api.push(body ?? api.pushBody(batch.requestBody)) })
                } catch {
                    exchanged = .failure(error)
                }
                // The last batch's answer is in the replica before this one's is looked at.
                try await Self.written(&acknowledging)
                let response: PushResponse
                let seconds: Double
                switch exchanged {
                case .success(let answer): (response, seconds) = answer
                case .failure(let error):
                    // This batch goes again first: the one read after it waits its turn.
                    next = nil
                    lastError = error
                    action = try failed(error, &machine)
                    if action.isPush { report(machine.summary) }  // A 413 halved the batch.
                    continue
                }
                guard Set(response.results.map(\.id)) == Set(batch.ids) else {
                    // Without an answer for every change the outbox cannot move on; stop, don't loop.
                    throw ClientError(
                        Words(
                            "the server answered for \(response.results.count) of \(batch.count) changes; try again later",
                            korean: "서버가 변경 \(batch.count)개 중 \(response.results.count)개에만 답했습니다: 나중에 다시 해 보세요"))
                }
                if response.results.contains(where: { $0.status == .rejected }) {
                    // A refusal may drop records or call for new stamps: written before anything
                    // else, and the next batch read again after it.
                    next = nil
                    let purged = try replica.acknowledge(response)
                    action = machine.pushAnswered(
                        .init(response, sent: batch.count, cutByBytes: batch.cutByBytes, seconds: seconds, purged: purged))
                } else {
                    // All taken: the answer is written while the next batch goes to the server,
                    // as the server then takes as long over it as this device over the answer.
                    action = machine.pushAnswered(
                        .init(response, sent: batch.count, cutByBytes: batch.cutByBytes, seconds: seconds, purged: 0))
                    acknowledging = Acknowledgement(ids: Set(batch.ids)) { [replica] in _ = try replica.acknowledge(response) }
                    if !action.isPush { try await Self.written(&acknowledging) }
                }
                if action.isPush { report(machine.summary) }
            case .rejectAlone:
                let change = try batch.change(at: 0)
                try replica.rejectLocally(change.id, reason: Self.tooLarge(change, lastError))
                action = machine.rejectedAlone()
                report(machine.summary)
            case .restampChangesAhead:
                // Stamped again, they are pending and go in the next batch.
                action = machine.restamped(try replica.restampChangesAhead())
                if action.isPush { report(machine.summary) }
            case .takeNewIdentity:
                // Another copy of this replica sent other changes under these ids: this one takes
                // a new id and sends its changes again under it.
                action = machine.renamed(try replica.takeNewIdentity())
                if action.isPush { report(machine.summary) }
            case .pullPage(let cursor, let limit, let wait):
                let bytesBefore = machine.summary.bytesReceived
                let page: PullResponse
                let seconds: Double
                do {
                    (page, seconds) = try await exchange(&machine.summary) {
                        try await api.pull(since: cursor, limit: limit, wait: wait)
                    }
                } catch {
                    lastError = error
                    action = try failed(error, &machine)
                    continue
                }
                try machine.received([page], seconds: seconds)
                let applied = try replica.apply(page)
                action = machine.applied(
                    .init(removed: applied.removed, kept: applied.kept.count), bytes: machine.summary.bytesReceived - bytesBefore)
                report(machine.summary, pull: machine.pullEstimate(after: clock.now() - started))
            case .pullStream(let cursor):
                do {
                    try await readStream(from: cursor, &machine, started: started)
                    lastError = StreamCut()  // What the wait says if the stream brought no page.
                    action = machine.streamEnded(now: clock.now(), random: random())
                } catch let failure as LocalFailure {
                    // Not the link's: a full disk, a cursor that came back. Retrying cannot help.
                    throw failure.error
                } catch {
                    lastError = error
                    action = try failed(error, &machine)
                }
            case .forgetCursor:
                // Unsent changes stay in the outbox and are pushed on the next sync; records
                // without one are dropped, so that none the server purged survives here.
                try replica.forgetCursor()
                action = machine.forgotCursor()
            case .checkPublishedSet(let page, let retried):
                let check = try await checkPublishedSet(page, retried: retried)
                action = machine.checked(check, cursor: try replica.settings().cursor)
                if action == .finished {
                    machine.summary.unverifiedRecords = try replica.unverifiedIDs().count
                    try replica.recordPullFinished()
                }
            case .retry(let delay, let next):
                report(machine.summary, retryingIn: delay, after: describeFailure(lastError, server: api.server).text)
                try await clock.sleep(delay)
                action = next
            case .fail:
                throw lastError
            case .giveUp:
                let step =
                    machine.isPushing ? Words("pushing changes", korean: "변경 보내기") : Words("pulling changes", korean: "변경 받기")
                throw RetryBudgetExhausted(
                    step: step, attempts: machine.retry.failures, seconds: machine.retry.stalled(at: clock.now()),
                    lastError: describeFailure(lastError, server: api.server))
            case .readStream:
                // Said while a stream is read, which readStream does to the end: the end follows.
                lastError = StreamCut()
                action = machine.streamEnded(now: clock.now(), random: random())
            case .finished:
                return
            }
        }
    }

    /// A push answer being written into the replica on its own task (``run(_:)``), while the
    /// next batch is sent: the one step of a push that overlaps another.
    private struct Acknowledgement {
        /// The changes answered: still in the outbox until the answer is written.
        let ids: Set<String>
        let task: Task<Void, any Error>

        init(ids: Set<String>, write: @escaping @Sendable () throws -> Void) {
            self.ids = ids
            task = Task { try await SyncEngine.onDispatchThread(write) }
        }
    }

    /// Runs blocking work (SQLite, gzip) on a Dispatch thread rather than on one of the few
    /// threads Swift runs tasks on: on two cores, an answer being written and the next batch
    /// being read held both, and the push itself waited for them to send its batch.
    private static func onDispatchThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// The batch after the one at the server, read and its body compressed meanwhile on a task
    /// of its own (``run(_:)``). It is sent only if the machine asks for a batch of the same size,
    /// every change in it is still pending (one discarded or dropped meanwhile sends the outbox
    /// to be read again) and no file waits to go up (a change naming one, added meanwhile, must
    /// wait for its upload, which the batch read as usual sees to).
    struct NextBatch {
        let limit: Int
        let task: Task<(Replica.PendingBatch, ServerAPI.PushBody)?, Never>

        init(limit: Int, excluding: Set<String>, maxBytes: Int, replica: Replica, api: ServerAPI) {
            self.limit = limit
            task = Task {
                try? await SyncEngine.onDispatchThread {
                    let batch = try replica.pendingBatch(limit: limit, maxBytes: maxBytes, excluding: excluding)
                    return batch.isEmpty ? nil : (batch, try api.pushBody(batch.requestBody))
                }
            }
        }

        /// The batch and its body, when they may still be sent as a batch of `limit`.
        func take(limit: Int, replica: Replica) async throws -> (Replica.PendingBatch, ServerAPI.PushBody)? {
            guard limit == self.limit, let ready = await task.value, try replica.arePending(ready.0.ids),
                try !replica.holdsMediaNotOnServer()
            else { return nil }
            return ready
        }
    }

    /// Waits for the answer being written, if any, and rethrows its failure.
    ///
    /// - Returns: whether there was one.
    @discardableResult
    private static func written(_ acknowledging: inout Acknowledgement?) async throws -> Bool {
        guard let pending = acknowledging else { return false }
        acknowledging = nil
        try await pending.task.value
        return true
    }

    /// Runs `body`; if it throws, the answer being written is waited for first, so that a push
    /// never ends with its last answer half way into the replica.
    private func writtenIfFails<T>(_ acknowledging: inout Acknowledgement?, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            try await Self.written(&acknowledging)
            throw error
        }
    }

    /// Reads one streamed answer from `cursor` (<doc:SyncAndResume>, rule 8): the pages that
    /// have arrived whole are applied with their cursors, several in one transaction when they
    /// arrived during the last commit (PageQueue.swift). Errors of this device come wrapped in
    /// `LocalFailure`.
    private func readStream(
        from cursor: SyncCursor?, _ machine: inout SyncStateMachine, started: Double
    ) async throws {
        var counted = api.traffic.reading
        // Bytes are counted after each commit, and as the stream ends, well or not.
        func countTraffic(_ summary: inout Summary) -> Int {
            let now = api.traffic.reading
            summary.bytesSent += now.sent - counted.sent
            summary.bytesReceived += now.received - counted.received
            defer { counted = now }
            return now.received - counted.received
        }
        defer { machine.streamed(bytes: countTraffic(&machine.summary)) }
        // Each page is prepared for storing (PulledPage: its rows' text, its elements' seeds)
        // where its line was decoded, beside the applier, whose thread was a first sync's
        // longest. The link itself is read apart from both (ServerAPI+Stream.swift).
        let queue = PageQueue<PulledPage>(capacity: 4 << 20)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [api, configuration] in
                do {
                    try await api.pullStream(
                        since: cursor, limit: configuration.pageLimit, chunkBytes: configuration.streamChunkBytes,
                        receiveSized: { page, bytes in
                            let prepared: PulledPage
                            do { prepared = try PulledPage(page) } catch { throw LocalFailure(error: error) }
                            try await queue.put(prepared, bytes: bytes)
                        })
                    await queue.finish(throwing: nil)
                } catch {
                    await queue.finish(throwing: error)
                }
            }
            while let pages = try await queue.take() {
                do {
                    try machine.received(pages.map(\.response))
                    let applied = try await replica.applyWaiting(pages)
                    let bytes = countTraffic(&machine.summary)
                    _ = machine.applied(.init(removed: applied.removed, kept: applied.kept.count), bytes: bytes)
                    report(machine.summary, pull: machine.pullEstimate(after: clock.now() - started))
                } catch {
                    await queue.close()
                    throw LocalFailure(error: error)
                }
            }
        }
    }

    /// An error of this device while a stream was read, kept apart from the link's.
    private struct LocalFailure: Error {
        var error: any Error
    }

    /// Tells `machine` that a request failed with `error`; the cancelled task stops here.
    private func failed(_ error: any Error, _ machine: inout SyncStateMachine) throws -> SyncStateMachine.Action {
        if error is CancellationError || Task.isCancelled { throw CancellationError() }
        return machine.failed(SyncStateMachine.Failure(error), now: clock.now(), random: random())
    }

    /// Checks the last page's signature (Replica+Verification.swift), asking the server for its
    /// key chain when the signature names a key other than the pinned one.
    private func checkPublishedSet(_ page: PullResponse, retried: Bool) async throws -> Replica.PublishedSetCheck {
        let pinned = try replica.publisherKey()
        var chain: [PublisherKeyEntry]?
        if let signature = page.signature, signature.key != pinned?.id { chain = try await api.publisher().keys }
        return try replica.checkPublishedSet(page.signature, cursor: page.cursor, chain: chain, retried: retried)
    }

    // MARK: - Steps

    /// Runs one request, adding its bytes to the summary whether it succeeds or not.
    ///
    /// - Returns: the answer and the seconds it took.
    func exchange<Answer>(_ summary: inout Summary, _ request: () async throws -> Answer) async throws
        -> (Answer, Double)
    {
        let before = api.traffic.reading
        let start = clock.now()
        defer {
            let after = api.traffic.reading
            summary.bytesSent += after.sent - before.sent
            summary.bytesReceived += after.received - before.received
        }
        let answer = try await request()
        return (answer, clock.now() - start)
    }

    /// Waits before a retry of a transient failure (rule 1); throws the error itself when it is
    /// permanent, ``RetryBudgetExhausted`` when the budget is spent, `CancellationError` when
    /// the task was cancelled.
    func recover(from error: any Error, step: Words, retry: inout RetryState, summary: inout Summary)
        async throws
    {
        if error is CancellationError || Task.isCancelled { throw CancellationError() }
        let failure = SyncFailure(error)
        var retryAfter: Double?
        switch failure {
        case .permanent: throw error
        case .transient(let seconds): retryAfter = seconds
        case .link: retryAfter = nil
        }
        let now = clock.now()
        let link = if case .link = failure { true } else { false }
        switch retry.failed(now: now, random: random(), retryAfter: retryAfter, link: link) {
        case .giveUp:
            throw RetryBudgetExhausted(
                step: step, attempts: retry.failures, seconds: retry.stalled(at: now), lastError: describeFailure(error, server: api.server)
            )
        case .retry(let delay):
            summary.retries += 1
            report(summary, retryingIn: delay, after: describeFailure(error, server: api.server).text)
            try await clock.sleep(delay)
        }
    }

    func report(
        _ summary: Summary, pull: SyncProgress.PullEstimate? = nil, retryingIn delay: Double? = nil,
        after failure: String? = nil, media: SyncProgress.MediaTransfer? = nil
    ) {
        progress?(SyncProgress(summary: summary, retryingIn: delay, lastFailure: failure, pull: pull, media: media))
    }

    /// Why a change that is too large alone stays behind, and what to do.
    private static func tooLarge(_ change: Change, _ error: any Error) -> ErrorDetail {
        let bytes = (try? JSONEncoder().encode(change).count).map { "\($0) bytes" } ?? "too large"
        let said = (error as? ServerError)?.detail.message ?? "413"
        return ErrorDetail(
            code: .tooLarge,
            message:
                "change \(change.id) to \(change.record.kind) \(change.record.id) is \(bytes), more than the server "
                + "takes in one request (\(said)): shorten it with "
                + "'haven \(change.record.kind.commandName) edit \(change.record.id)', then sync again")
    }
}

/// Where a sync stands, for a progress line.
public struct SyncProgress: Sendable {
    /// Everything done so far.
    public var summary: SyncEngine.Summary
    /// Seconds until the next attempt, while waiting after a failure.
    public var retryingIn: Double?
    /// The failure being waited out.
    public var lastFailure: String?
    /// While a pull has more pages to come: how much, as the server's `remaining` says.
    public var pull: PullEstimate?
    /// While a media file is on its way: which, how far, how fast.
    public var media: MediaTransfer?

    /// One media file on its way.
    public struct MediaTransfer: Sendable, Equatable {
        /// The file's name, as its record gives it.
        public var name: String
        /// Up (true) or down.
        public var uploading: Bool
        /// Bytes moved so far, from the start of the file.
        public var bytes: Int64
        /// The file's length in bytes.
        public var total: Int64
        /// The pace so far; nil before it can be told.
        public var bytesPerSecond: Double?

        /// A transfer of `bytes` of `total` so far.
        public init(name: String, uploading: Bool, bytes: Int64, total: Int64, bytesPerSecond: Double?) {
            self.name = name
            self.uploading = uploading
            self.bytes = bytes
            self.total = total
            self.bytesPerSecond = bytesPerSecond
        }
    }

    /// The rest of a pull, from the server's `remaining` count and the pace so far.
    public struct PullEstimate: Sendable, Equatable {
        /// Records still to come.
        public var remainingRecords: Int
        /// Bytes this pull has received, and the whole pull's, as far as can be told.
        public var receivedBytes: Int
        /// The bytes the whole pull should take, as far as can be told.
        public var expectedBytes: Int
        /// Seconds the rest should take at the pace so far; nil before it can be told.
        public var secondsLeft: Double?

        /// An estimate of the rest of a pull.
        public init(remainingRecords: Int, receivedBytes: Int, expectedBytes: Int, secondsLeft: Double?) {
            self.remainingRecords = remainingRecords
            self.receivedBytes = receivedBytes
            self.expectedBytes = expectedBytes
            self.secondsLeft = secondsLeft
        }
    }

    /// Progress: `summary` so far, and while waiting after a failure, how long and why.
    public init(
        summary: SyncEngine.Summary, retryingIn: Double? = nil, lastFailure: String? = nil, pull: PullEstimate? = nil,
        media: MediaTransfer? = nil
    ) {
        self.summary = summary
        self.media = media
        self.retryingIn = retryingIn
        self.lastFailure = lastFailure
        self.pull = pull
    }
}
