import Foundation
import HavenCore
import HavenTrust

/// Push the outbox in batches, then pull pages until the server has nothing more, by the rules
/// of <doc:SyncAndResume>.
///
/// The engine holds no state of its own between steps: the outbox, the cursor and the adaptive
/// sizes live in the replica and move forward one transaction at a time (<doc:SyncAndResume>,
/// rule 3).
///
/// Rule 1. Transient failures: <doc:SyncAndResume>, rule 4.
///
/// Rule 2. Sizes follow the link (``AdaptiveSize``): a failure or an answer slower than
/// ``Configuration/slowRequest`` halves the next request; a full one faster than
/// ``Configuration/quickRequest`` grows it by half. 413 halves the batch and sends it again; a
/// single change still too large is marked rejected and the rest goes on.
///
/// Rule 3. `clock_ahead`: <doc:SyncAndResume>, rule 5, within the same push.
///
/// Rule 4. A page is asked to stay under ``Configuration/pageBytes``, or a twentieth of what
/// the pull has received so far if that is more (the limit in records is set from the bytes per
/// record seen so far). A page lost to a cut is fetched again whole, so this keeps the bytes
/// received twice under a tenth of the download even when two cuts land on full pages. Where
/// round trips are costly (no page of the pull came back in under a quarter of a second) and no
/// request of the pull has failed yet, a page may be a fifteenth of the whole download from the
/// start instead: what has arrived plus what the server says remains (`remaining`). A first sync
/// of 1.9 MB at 32 KiB/s and 600 ms then takes 16 round trips instead of 49.
///
/// Rule 5. A pull that reaches the head checks the publisher's signature over the published set
/// (``Replica/checkPublishedSet(_:cursor:chain:retried:)``); on a failure the replica is back at
/// its last verified state and the pull downloads once more from there before it gives up.
///
/// Rule 6. A pull that does not wait streams (``ServerAPI/pullStream(since:limit:chunkBytes:receive:)``):
/// one request brings every page, and the pages that have arrived whole are applied with their
/// cursors, several in one transaction when they arrived during the last commit (PageQueue.swift).
/// A cut loses only the page under way: the pages before it are applied, and the stream resumes
/// from the last one. A server without the stream (404), or a transport that cannot stream, is
/// pulled page by page (rule 4).
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
        /// as much (rule 4); nil asks for ``pageLimit`` records whatever their size.
        public var pageBytes: Int?
        /// Whether a pull that does not wait streams (rule 6).
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
    let api: ServerAPI
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
    /// publisher's signature failed twice (rule 5): the summary says so.
    public func watch(into summary: inout Summary) async throws {
        do {
            // The first pull catches up without waiting (streamed, rule 6); the next ones long-poll.
            var wait = 0.0
            while true {
                try Task.checkCancellation()
                try await push(into: &summary)
                try await pull(into: &summary, wait: wait)
                wait = configuration.longPollWait
                try replica.recordSyncFinished()
                // Polling on would download the same unverified pages again and again.
                if summary.publishedSet == .failed { return }
            }
        } catch is CancellationError {
            return
        }
    }

    /// Sends the outbox, batch by batch, until no pending change is left.
    public func push(into summary: inout Summary) async throws {
        let started = clock.now()
        var sizes = try loadSizes()
        defer {
            summary.elapsed += clock.now() - started
            summary.batchSize = sizes.batch.current
            summary.pageSize = sizes.page.current
        }
        var retry = RetryState(policy: configuration.retry)
        var restamped = false
        var renamed = false
        var failedMedia: Set<String> = []
        while true {
            // Sent as stored: the outbox's JSON goes out without being decoded and encoded again.
            let pending = try replica.pendingBatch(
                limit: sizes.batch.current, maxBytes: configuration.batchBytes ?? .max)
            guard !pending.isEmpty else { return }
            // The files the changes name go first; a change naming one that failed waits.
            let changes = try await uploadMedia(for: pending, failed: &failedMedia, into: &summary)
            guard !changes.isEmpty else { return }
            let response: PushResponse
            let seconds: Double
            do {
                (response, seconds) = try await exchange(&summary) { try await api.push(changes) }
            } catch let error as ServerError where error.status == 413 {
                retry.succeeded()  // An answer came: the link works, the request was too large.
                if changes.count == 1 {
                    let change = try changes.change(at: 0)
                    try replica.rejectLocally(change.id, reason: Self.tooLarge(change, error))
                    summary.rejected += 1
                } else {
                    sizes.batch.shrink(below: changes.count)
                    try save(sizes)
                    summary.retries += 1
                }
                report(summary)
                continue
            } catch {
                try await recover(from: error, step: Words("pushing changes", korean: "변경 보내기"), retry: &retry, summary: &summary)
                // A batch cut by bytes was smaller than the size: halve what was sent.
                if changes.cutByBytes { sizes.batch.shrink(below: changes.count) } else { sizes.batch.shrink() }
                try save(sizes)
                continue
            }
            retry.succeeded()
            guard Set(response.results.map(\.id)) == Set(changes.ids) else {
                // Without an answer for every change the outbox cannot move on; stop, don't loop.
                throw ClientError(
                    Words(
                        "the server answered for \(response.results.count) of \(changes.count) changes; try again later",
                        korean: "서버가 변경 \(changes.count)개 중 \(response.results.count)개에만 답했습니다: 나중에 다시 해 보세요"))
            }
            summary.purged += try replica.acknowledge(response)
            summary.pushed += changes.count
            var clockAhead = 0
            var idConflicts = 0
            for result in response.results {
                switch result.status {
                case .applied: summary.applied += 1
                case .duplicate: summary.duplicate += 1
                case .rejected where result.error?.code == .recordPurged: break
                case .rejected where result.error?.code == .clockAhead: clockAhead += 1
                case .rejected where result.error?.code == .changeIDConflict: idConflicts += 1
                case .rejected: summary.rejected += 1
                }
            }
            if clockAhead > 0 {
                // Once per push: stamped again, they are pending and go in the next batch.
                let count = restamped ? 0 : try replica.restampChangesAhead()
                restamped = true
                summary.restamped += count
                if count == 0 { summary.rejected += clockAhead }
            }
            if idConflicts > 0 {
                // Another copy of this replica sent other changes under these ids: once per push,
                // this one takes a new id and sends its changes again under it.
                let count = renamed ? 0 : try replica.takeNewIdentity()
                renamed = true
                summary.restamped += count
                if count == 0 { summary.rejected += idConflicts }
            }
            if changes.cutByBytes, seconds >= configuration.slowRequest {
                sizes.batch.shrink(below: changes.count)  // Halve what was sent, not the larger size.
                try save(sizes)
            } else if adapt(&sizes.batch, full: changes.count >= sizes.batch.current, seconds: seconds) {
                try save(sizes)
            }
            report(summary)
        }
    }

    /// Pulls pages until the server says there is no more; each page is applied with its cursor.
    ///
    /// - Parameters:
    ///   - summary: what the sync has done so far; the pull adds to it.
    ///   - wait: seconds the server may hold an empty answer open for new changes.
    public func pull(into summary: inout Summary, wait: Double = 0) async throws {
        if wait == 0, configuration.streams, try await pullStreamed(into: &summary) { return }
        try await pullPaged(into: &summary, wait: wait)
    }

    /// Pulls everything in streamed answers, resuming after each cut from the last page applied
    /// (rule 6).
    ///
    /// - Returns: false when the server has no stream (404): nothing was pulled.
    private func pullStreamed(into summary: inout Summary) async throws -> Bool {
        let started = clock.now()
        defer { summary.elapsed += clock.now() - started }
        var retry = RetryState(policy: configuration.retry)
        var retriedCheck = false
        var progress = PullProgress()
        var counted = api.traffic.reading
        // Bytes are counted after each commit, and as each stream ends, well or not.
        func countTraffic(_ summary: inout Summary) {
            let now = api.traffic.reading
            summary.bytesSent += now.sent - counted.sent
            summary.bytesReceived += now.received - counted.received
            progress.bytes += now.received - counted.received
            counted = now
        }
        // Every cursor this pull has been at, across streams: one given again with `more` would loop.
        var reached = Set([try replica.settings().cursor].compactMap { $0 })
        while true {
            let cursor = try replica.settings().cursor
            let queue = PageQueue(capacity: 16)
            var last: PullResponse?
            do {
                defer { countTraffic(&summary) }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { [api, configuration] in
                        do {
                            try await api.pullStream(
                                since: cursor, limit: configuration.pageLimit, chunkBytes: configuration.streamChunkBytes
                            ) {
                                try await queue.put($0)
                            }
                            await queue.finish(throwing: nil)
                        } catch {
                            await queue.finish(throwing: error)
                        }
                    }
                    while let pages = try await queue.take() {
                        do {
                            for page in pages where page.more {
                                guard reached.insert(page.cursor).inserted else {
                                    throw ProtocolViolation.cursorCameBack(page.cursor)
                                }
                            }
                            let applied = try replica.apply(pages)
                            retry.succeeded()
                            countTraffic(&summary)
                            for page in pages {
                                progress.items += page.changes.count + page.removed.count + page.conflicts.count
                                summary.pulledRecords += page.changes.count
                                summary.newConflicts += page.conflicts.count
                            }
                            summary.pages += pages.count
                            summary.removedRecords += applied.removed
                            summary.keptRecords += applied.kept.count
                            last = pages.last
                            progress.remaining = last?.remaining ?? 0
                            report(summary, pull: last?.more == true ? progress.estimate(after: clock.now() - started) : nil)
                        } catch {
                            await queue.close()
                            throw LocalFailure(error: error)
                        }
                    }
                }
            } catch let failure as LocalFailure {
                // Not the link's: a full disk, a cursor that came back. Retrying cannot help.
                throw failure.error
            } catch is StreamingUnsupported {
                return false
            } catch let error as ServerError where error.status == 404 {
                return false
            } catch let error as ServerError where error.status == 410 && cursor != nil {
                // As in a paged pull (rule 4's 410): download everything again.
                retry.succeeded()
                try replica.forgetCursor()
                reached = []
                summary.redownloaded = true
                continue
            } catch {
                try await recover(from: error, step: Words("pulling changes", korean: "변경 받기"), retry: &retry, summary: &summary)
                continue
            }
            // An answer that ended cleanly before the head: stream on from its last page.
            guard let last, !last.more else { continue }
            let check = try await checkPublishedSet(last, retried: retriedCheck)
            summary.publishedSet = check
            if check == .retrying {
                retriedCheck = true
                reached = Set([try replica.settings().cursor].compactMap { $0 })
                continue
            }
            summary.unverifiedRecords = try replica.unverifiedIDs().count
            try replica.recordPullFinished()
            return true
        }
    }

    /// An error of this device while a stream was read, kept apart from the link's.
    private struct LocalFailure: Error {
        var error: any Error
    }

    /// Pulls page by page (rule 4): a long-poll, or a server without the stream.
    private func pullPaged(into summary: inout Summary, wait: Double) async throws {
        let started = clock.now()
        var sizes = try loadSizes()
        defer {
            summary.elapsed += clock.now() - started
            summary.batchSize = sizes.batch.current
            summary.pageSize = sizes.page.current
        }
        var retry = RetryState(policy: configuration.retry)
        var cursor = try replica.settings().cursor
        // Every cursor this pull has been at: one given again with `more` would loop forever.
        var reached = Set([cursor].compactMap { $0 })
        var progress = PullProgress()
        var retriedCheck = false
        while true {
            let limit = pageLimit(sizes.page, progress)
            let bytesBefore = summary.bytesReceived
            let page: PullResponse
            let seconds: Double
            do {
                (page, seconds) = try await exchange(&summary) {
                    try await api.pull(since: cursor, limit: limit, wait: wait)
                }
            } catch let error as ServerError where error.status == 410 && cursor != nil {
                // The server no longer knows our cursor: download everything again. Unsent
                // changes stay in the outbox and are pushed on the next sync; records without
                // one are dropped, so that none the server purged survives here.
                retry.succeeded()
                try replica.forgetCursor()
                cursor = nil
                reached = []
                summary.redownloaded = true
                continue
            } catch {
                try await recover(from: error, step: Words("pulling changes", korean: "변경 받기"), retry: &retry, summary: &summary)
                progress.failed = true
                sizes.page.shrink(below: limit)
                try save(sizes)
                continue
            }
            retry.succeeded()
            if page.more, !reached.insert(page.cursor).inserted { throw ProtocolViolation.cursorCameBack(page.cursor) }
            let applied = try replica.apply(page)
            progress.bytes += summary.bytesReceived - bytesBefore
            progress.items += page.changes.count + page.removed.count + page.conflicts.count
            progress.remaining = page.remaining ?? 0
            if wait == 0 || page.more { progress.fastestPage = min(progress.fastestPage, seconds) }
            cursor = page.cursor
            summary.pages += 1
            summary.pulledRecords += page.changes.count
            summary.removedRecords += applied.removed
            summary.keptRecords += applied.kept.count
            summary.newConflicts += page.conflicts.count
            // A long-poll that waited says nothing about the link.
            if page.more || wait == 0,
                adapt(&sizes.page, full: page.more && limit == sizes.page.current, seconds: seconds)
            {
                try save(sizes)
            }
            report(summary, pull: page.more ? progress.estimate(after: clock.now() - started) : nil)
            if !page.more {
                let check = try await checkPublishedSet(page, retried: retriedCheck)
                summary.publishedSet = check
                if check == .retrying {
                    // The last verified state is back: download what changed since, once.
                    retriedCheck = true
                    cursor = try replica.settings().cursor
                    reached = Set([cursor].compactMap { $0 })
                    continue
                }
                summary.unverifiedRecords = try replica.unverifiedIDs().count
                try replica.recordPullFinished()
                return
            }
        }
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

    private struct Sizes {
        var batch: AdaptiveSize
        var page: AdaptiveSize
    }

    private func loadSizes() throws -> Sizes {
        let settings = try replica.settings()
        return Sizes(
            batch: AdaptiveSize(maximum: configuration.batchSize, current: settings.batchSize),
            page: AdaptiveSize(maximum: configuration.pageLimit, current: settings.pageSize))
    }

    private func save(_ sizes: Sizes) throws {
        try replica.saveSyncSizes(batch: sizes.batch.current, page: sizes.page.current)
    }

    /// Records to ask for in the next page: the adaptive size, held to the page's byte budget
    /// (rule 4).
    private func pageLimit(_ size: AdaptiveSize, _ progress: PullProgress) -> Int {
        guard let pageBytes = configuration.pageBytes else { return size.current }
        let share =
            progress.failed || progress.fastestPage < PullProgress.costlyRoundTrip
            ? Double(progress.bytes) / 20 : progress.expectedBytes / 15
        let budget = max(Double(pageBytes), share)
        return max(1, min(size.current, Int(budget / progress.bytesPerRecord)))
    }

    /// What a pull has received so far, for sizing its next page (rule 4).
    struct PullProgress {
        /// Seconds under which a page answer says round trips are cheap.
        static let costlyRoundTrip = 0.25

        var bytes = 0
        var items = 0
        /// Records the server said were still to come after the last page.
        var remaining = 0
        /// Whether a request of this pull has failed.
        var failed = false
        /// Seconds of the quickest page answer (infinity before the first).
        var fastestPage = Double.infinity

        /// Bytes per record seen so far (1 KB before the first page).
        var bytesPerRecord: Double { items > 0 ? max(1, Double(bytes) / Double(items)) : 1024 }
        /// The whole download, as far as can be told.
        var expectedBytes: Double { Double(bytes) + Double(remaining) * bytesPerRecord }

        /// What is left, for a progress line, after `seconds` of pulling at this pace.
        func estimate(after seconds: Double) -> SyncProgress.PullEstimate {
            let left = max(0, expectedBytes - Double(bytes))
            let rate = seconds > 0 ? Double(bytes) / seconds : 0
            return SyncProgress.PullEstimate(
                remainingRecords: remaining, receivedBytes: bytes, expectedBytes: Int(min(expectedBytes, 1e15)),
                secondsLeft: rate > 0 ? min(left / rate, 1e9) : nil)
        }
    }

    /// Grows or shrinks `size` after a success that took `seconds` (rule 2); true if it changed.
    private func adapt(_ size: inout AdaptiveSize, full: Bool, seconds: Double) -> Bool {
        let before = size
        if seconds >= configuration.slowRequest {
            size.shrink()
        } else if full && seconds <= configuration.quickRequest {
            size.grow()
        }
        return size != before
    }

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
    private static func tooLarge(_ change: Change, _ error: ServerError) -> ErrorDetail {
        let bytes = (try? JSONEncoder().encode(change).count).map { "\($0) bytes" } ?? "too large"
        return ErrorDetail(
            code: .tooLarge,
            message:
                "change \(change.id) to \(change.record.kind) \(change.record.id) is \(bytes), more than the server "
                + "takes in one request (\(error.detail.message)): shorten it with "
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
