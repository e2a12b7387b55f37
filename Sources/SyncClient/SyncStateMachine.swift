import HavenCore

/// The decisions of a sync, with no I/O: each method takes what happened (an answer, a failure,
/// pages) and returns what to do next. ``SyncEngine`` does what it says and tells it what came of
/// it, so the rules are tested without a server.
///
/// It decides by the rules of <doc:SyncAndResume>: retries (rule 4), `clock_ahead` (rule 5, and
/// `change_id_conflict` likewise: a new replica id, once per push), 410 (rule 6), sizes (rule 7)
/// and the stream (rule 8); and by these, which the article leaves to it:
///
/// Rule 1. A page is asked to stay under ``SyncEngine/Configuration/pageBytes``, or a twentieth of
/// what the pull has received so far if that is more (the limit in records is set from the bytes
/// per record seen so far). A page lost to a cut is fetched again whole, so this keeps the bytes
/// received twice under a tenth of the download even when two cuts land on full pages. Where
/// round trips are costly (no page of the pull came back in under a quarter of a second) and no
/// request of the pull has failed yet, a page may be a fifteenth of the whole download from the
/// start instead: what has arrived plus what the server says remains (`remaining`). A first sync
/// of 1.9 MB at 32 KiB/s and 600 ms then takes 16 round trips instead of 49.
///
/// Rule 2. A pull that reaches the head checks the publisher's signature over the published set;
/// on a failure the replica is back at its last verified state and the pull downloads once more
/// from there before it gives up.
///
/// Rule 3. A stream cut, or ended before the head, is opened again from its last page applied;
/// one that ended having brought no page counts as a cut link, so a server that answers empty
/// streams spends the retry budget instead of looping. A long-poll that waited says nothing of
/// the link: its answer changes no size.
///
/// A machine runs one push or one pull. For example, a push whose first batch met a dropped link:
/// ```swift
/// var push = SyncStateMachine(.push, configuration: .init(), batchSize: nil, pageSize: nil)
/// push.start()                                       // .push(limit: 1000)
/// push.failed(.link, now: 0, random: 0.5)            // .retry(after: 0.05, .push(limit: 500))
/// push.pushAnswered(.init(sent: 500, applied: 500))  // .push(limit: 750): quick and full
/// push.outboxEmpty()                                 // .finished
/// ```
public struct SyncStateMachine: Sendable {
    /// What to do next.
    public indirect enum Action: Sendable, Equatable {
        /// Send up to `limit` pending changes in one request (within the configuration's
        /// `batchBytes`); then ``pushAnswered(_:)``, ``outboxEmpty()`` or ``failed(_:now:random:)``.
        case push(limit: Int)
        /// The one change sent is larger than the server takes: mark it rejected and keep it;
        /// then ``rejectedAlone()``.
        case rejectAlone
        /// Stamp again the changes the server found ahead of its clock; then ``restamped(_:)``.
        case restampChangesAhead
        /// Another copy of this replica used its change ids: take a new replica id and stamp the
        /// unsent changes under it; then ``renamed(_:)``.
        case takeNewIdentity
        /// Ask for one page of at most `limit` records after `since`, which the server may hold
        /// open `wait` seconds; then ``received(_:seconds:)`` and, once it is applied,
        /// ``applied(_:bytes:)``; or ``failed(_:now:random:)``.
        case pullPage(since: SyncCursor?, limit: Int, wait: Double)
        /// Open a streamed pull from `since`; then, for each run of whole pages,
        /// ``received(_:seconds:)`` and ``applied(_:bytes:)``; at its end ``streamEnded(now:random:)``,
        /// or ``failed(_:now:random:)``.
        case pullStream(since: SyncCursor?)
        /// Read the stream under way on to its end, then ``streamEnded(now:random:)``.
        case readStream
        /// The server no longer knows the cursor: forget it (unsent changes stay); then ``forgotCursor()``.
        case forgetCursor
        /// Check the publisher's signature on `page`, the last (`retried`: for the second time);
        /// then ``checked(_:cursor:)``.
        case checkPublishedSet(PullResponse, retried: Bool)
        /// Wait this many seconds, then do `action` again.
        case retry(after: Double, Action)
        /// Stop with the error that came: trying again cannot help.
        case fail
        /// Stop: the link got nothing through for the whole budget (``RetryPolicy``).
        case giveUp
        /// Nothing is left to do.
        case finished
    }

    /// What went wrong with a request, as far as the rules care.
    public enum Failure: Sendable, Equatable {
        /// 413: the request was larger than the server takes.
        case tooLarge
        /// 410: the server no longer knows the cursor.
        case cursorGone
        /// 404 (the server has no such route: no streamed pull), or a transport that cannot stream.
        case notFound
        /// The server answered that it may recover (408, 429, 5xx), or the answer was unreadable.
        case transient(retryAfter: Double?)
        /// No answer came: the link dropped, timed out, or cut a stream short.
        case link
        /// Anything else: trying again cannot help.
        case permanent
    }

    /// What the server said of one push.
    public struct PushAnswer: Sendable, Equatable {
        /// Changes sent in the request.
        public var sent: Int
        /// Whether the batch was cut short by the byte limit rather than by its size.
        public var cutByBytes = false
        /// Seconds the request took.
        public var seconds = 0.0
        /// Changes written to the log, and already there (a batch sent again).
        public var applied = 0
        /// Changes the server already had.
        public var duplicate = 0
        /// Changes refused for good.
        public var rejected = 0
        /// Changes refused as stamped ahead of the server's clock.
        public var clockAhead = 0
        /// Changes refused because another copy of this replica used their ids.
        public var idConflicts = 0
        /// Unsent changes dropped because the server purged their records.
        public var purged = 0

        /// An answer to `sent` changes.
        public init(
            sent: Int, cutByBytes: Bool = false, seconds: Double = 0, applied: Int = 0, duplicate: Int = 0,
            rejected: Int = 0, clockAhead: Int = 0, idConflicts: Int = 0, purged: Int = 0
        ) {
            self.sent = sent
            self.cutByBytes = cutByBytes
            self.seconds = seconds
            self.applied = applied
            self.duplicate = duplicate
            self.rejected = rejected
            self.clockAhead = clockAhead
            self.idConflicts = idConflicts
            self.purged = purged
        }

        /// The answer `response` gives to `sent` changes: each result counted by its status.
        public init(_ response: PushResponse, sent: Int, cutByBytes: Bool, seconds: Double, purged: Int) {
            self.init(sent: sent, cutByBytes: cutByBytes, seconds: seconds, purged: purged)
            for result in response.results {
                switch result.status {
                case .applied: applied += 1
                case .duplicate: duplicate += 1
                case .rejected where result.error?.code == .recordPurged: break  // Counted in `purged`.
                case .rejected where result.error?.code == .clockAhead: clockAhead += 1
                case .rejected where result.error?.code == .changeIDConflict: idConflicts += 1
                case .rejected: rejected += 1
                }
            }
        }
    }

    /// What applying pages did.
    public struct Applied: Sendable, Equatable {
        /// Records dropped because the token may no longer see them.
        public var removed = 0
        /// Records kept although the token may no longer see them (they hold unsent changes).
        public var kept = 0

        /// What applying pages did.
        public init(removed: Int = 0, kept: Int = 0) {
            self.removed = removed
            self.kept = kept
        }
    }

    private enum Phase: Sendable {
        case pushing(Push)
        case pulling(Pull)
        case finished
    }

    private struct Push: Sendable {
        /// Changes in the push under way, and whether the byte limit cut them short.
        var sending = 0
        var cutByBytes = false
        var restamped = false
        var renamed = false
        var clockAhead = 0
        var idConflicts = 0
    }

    private struct Pull: Sendable {
        var cursor: SyncCursor?
        /// Every cursor this pull has been at: one given again with `more` would loop forever.
        var reached: Set<SyncCursor>
        var streaming: Bool
        var wait: Double
        var limit = 0
        var progress = PullProgress()
        var retriedCheck = false
        /// The pages received and not yet applied, and the seconds their request took.
        var received: [PullResponse] = []
        var seconds = 0.0
        /// The last page applied in the stream under way.
        var last: PullResponse?
    }

    let configuration: SyncEngine.Configuration
    private var phase: Phase
    /// The rules of ``RetryPolicy`` over the current stall.
    private(set) var retry: RetryState
    /// The push batch's size, which the replica keeps for the next sync.
    public private(set) var batchSize: AdaptiveSize
    /// The pull page's size, which the replica keeps for the next sync.
    public private(set) var pageSize: AdaptiveSize
    /// What the sync has done so far; the engine adds the bytes and seconds it measures.
    public internal(set) var summary: SyncEngine.Summary

    /// What a machine runs.
    public enum Plan: Sendable, Equatable {
        /// Send the outbox, batch by batch.
        case push
        /// Pull from `cursor` until the server has nothing more; the server may hold an empty
        /// answer open `wait` seconds. A pull that does not wait streams, if the configuration allows.
        case pull(from: SyncCursor?, wait: Double)
    }

    /// A machine for `plan`, starting from the sizes the replica kept (nil: the configuration's)
    /// and adding to `summary`.
    public init(
        _ plan: Plan, configuration: SyncEngine.Configuration, batchSize: Int?, pageSize: Int?,
        summary: SyncEngine.Summary = .init()
    ) {
        self.configuration = configuration
        self.batchSize = AdaptiveSize(maximum: configuration.batchSize, current: batchSize)
        self.pageSize = AdaptiveSize(maximum: configuration.pageLimit, current: pageSize)
        self.summary = summary
        retry = RetryState(policy: configuration.retry)
        switch plan {
        case .push:
            phase = .pushing(Push())
        case .pull(let cursor, let wait):
            let streaming = wait == 0 && configuration.streams
            phase = .pulling(Pull(cursor: cursor, reached: Set([cursor].compactMap { $0 }), streaming: streaming, wait: wait))
        }
    }

    /// Whether this machine pushes (else it pulls).
    public var isPushing: Bool {
        if case .pushing = phase { true } else { false }
    }

    /// The first thing to do.
    public mutating func start() -> Action {
        switch phase {
        case .pushing(var push): return nextPush(&push)
        case .pulling(var pull):
            defer { phase = .pulling(pull) }
            return request(&pull)
        case .finished: return .finished
        }
    }

    // MARK: - Push

    /// A push of `count` changes is about to go: fewer than asked when the outbox held fewer, a
    /// change waits for its media, or the byte limit cut the batch (`cutByBytes`).
    public mutating func sending(_ count: Int, cutByBytes: Bool = false) {
        guard case .pushing(var push) = phase else { return }
        push.sending = count
        push.cutByBytes = cutByBytes
        phase = .pushing(push)
    }

    /// Nothing is left to send.
    public mutating func outboxEmpty() -> Action {
        phase = .finished
        return .finished
    }

    /// The server answered a push (<doc:SyncAndResume>, rules 5 and 7).
    public mutating func pushAnswered(_ answer: PushAnswer) -> Action {
        guard case .pushing(var push) = phase else { return .fail }
        retry.succeeded()
        summary.purged += answer.purged
        summary.pushed += answer.sent
        summary.applied += answer.applied
        summary.duplicate += answer.duplicate
        summary.rejected += answer.rejected
        push.clockAhead = answer.clockAhead
        push.idConflicts = answer.idConflicts
        if answer.cutByBytes, answer.seconds >= configuration.slowRequest {
            batchSize.shrink(below: answer.sent)  // Halve what was sent, not the larger size.
        } else {
            adapt(&batchSize, full: answer.sent >= batchSize.current, seconds: answer.seconds)
        }
        return nextPush(&push)
    }

    /// The changes ahead of the server's clock were stamped again: `count` of them.
    public mutating func restamped(_ count: Int) -> Action {
        guard case .pushing(var push) = phase else { return .fail }
        push.restamped = true
        summary.restamped += count
        if count == 0 { summary.rejected += push.clockAhead }
        push.clockAhead = 0
        return nextPush(&push)
    }

    /// The replica took a new id; `count` changes were stamped under it.
    public mutating func renamed(_ count: Int) -> Action {
        guard case .pushing(var push) = phase else { return .fail }
        push.renamed = true
        summary.restamped += count
        if count == 0 { summary.rejected += push.idConflicts }
        push.idConflicts = 0
        return nextPush(&push)
    }

    /// The change too large to send alone was marked rejected.
    public mutating func rejectedAlone() -> Action {
        guard case .pushing(var push) = phase else { return .fail }
        summary.rejected += 1
        return nextPush(&push)
    }

    /// What follows an answer: each refusal that stamping again can mend, once per push
    /// (a second `clock_ahead` or conflict in the same push stays rejected), then the next batch.
    private mutating func nextPush(_ push: inout Push) -> Action {
        defer { phase = .pushing(push) }
        if push.clockAhead > 0 {
            if !push.restamped { return .restampChangesAhead }
            summary.rejected += push.clockAhead
            push.clockAhead = 0
        }
        if push.idConflicts > 0 {
            if !push.renamed { return .takeNewIdentity }
            summary.rejected += push.idConflicts
            push.idConflicts = 0
        }
        push.sending = batchSize.current
        push.cutByBytes = false
        return .push(limit: batchSize.current)
    }

    // MARK: - Pull

    /// Pages came, in order: whole pages of a stream, or the one page asked for, which took
    /// `seconds`. Apply them, each with its cursor, in one transaction; then ``applied(_:bytes:)``.
    ///
    /// - Throws: `ProtocolViolation` when a page with more to come gives a cursor this pull has
    ///   already been at: following it would loop forever.
    public mutating func received(_ pages: [PullResponse], seconds: Double = 0) throws(ProtocolViolation) {
        guard case .pulling(var pull) = phase else { return }
        for page in pages where page.more {
            guard pull.reached.insert(page.cursor).inserted else { throw .cursorCameBack(page.cursor) }
        }
        pull.received = pages
        pull.seconds = seconds
        phase = .pulling(pull)
    }

    /// The pages received were applied; `bytes` is what the link brought for them.
    public mutating func applied(_ applied: Applied, bytes: Int) -> Action {
        guard case .pulling(var pull) = phase, let last = pull.received.last else { return .fail }
        retry.succeeded()
        for page in pull.received {
            pull.progress.items += page.changes.count + page.removed.count + page.conflicts.count
            summary.pulledRecords += page.changes.count
            summary.newConflicts += page.conflicts.count
        }
        summary.pages += pull.received.count
        summary.removedRecords += applied.removed
        summary.keptRecords += applied.kept
        pull.progress.remaining = last.remaining ?? 0
        pull.cursor = last.cursor
        pull.received = []
        defer { phase = .pulling(pull) }
        pull.progress.bytes += bytes
        pull.last = last
        // A stream is read to its end, which says what follows (streamEnded).
        if pull.streaming { return .readStream }
        if pull.wait == 0 || last.more { pull.progress.fastestPage = min(pull.progress.fastestPage, pull.seconds) }
        // A long-poll that waited says nothing about the link.
        if last.more || pull.wait == 0 {
            adapt(&pageSize, full: last.more && pull.limit == pageSize.current, seconds: pull.seconds)
        }
        return last.more ? request(&pull) : .checkPublishedSet(last, retried: pull.retriedCheck)
    }

    /// A stream ended without a failure. One that stopped before the head is opened again from
    /// its last page; one that brought no page at all is treated as a cut link.
    public mutating func streamEnded(now: Double, random: Double) -> Action {
        guard case .pulling(var pull) = phase else { return .fail }
        guard let last = pull.last else { return failed(.link, now: now, random: random) }
        defer { phase = .pulling(pull) }
        return last.more ? request(&pull) : .checkPublishedSet(last, retried: pull.retriedCheck)
    }

    /// Bytes a stream brought that no applied page counted (the tail of a cut page): the pace,
    /// for the estimate.
    mutating func streamed(bytes: Int) {
        guard case .pulling(var pull) = phase else { return }
        pull.progress.bytes += bytes
        phase = .pulling(pull)
    }

    /// The cursor was forgotten: the pull downloads everything again.
    public mutating func forgotCursor() -> Action {
        guard case .pulling(var pull) = phase else { return .fail }
        pull.cursor = nil
        pull.reached = []
        summary.redownloaded = true
        defer { phase = .pulling(pull) }
        return request(&pull)
    }

    /// The publisher's signature was checked; `cursor` is the replica's after the check (its last
    /// verified state when the check failed). A first failure downloads once more from there.
    public mutating func checked(_ check: Replica.PublishedSetCheck, cursor: SyncCursor?) -> Action {
        guard case .pulling(var pull) = phase else { return .fail }
        summary.publishedSet = check
        guard check == .retrying else {
            phase = .finished
            return .finished
        }
        pull.retriedCheck = true
        pull.cursor = cursor
        pull.reached = Set([cursor].compactMap { $0 })
        defer { phase = .pulling(pull) }
        return request(&pull)
    }

    /// While a pull has more to come: how much, for the progress line, after `seconds` of pulling.
    public func pullEstimate(after seconds: Double) -> SyncProgress.PullEstimate? {
        guard case .pulling(let pull) = phase, pull.last?.more == true else { return nil }
        return pull.progress.estimate(after: seconds)
    }

    /// The next request of a pull: the stream from the cursor, or a page sized by rule 1.
    private func request(_ pull: inout Pull) -> Action {
        if pull.streaming {
            pull.last = nil  // What the new stream brings says how it ended (streamEnded).
            return .pullStream(since: pull.cursor)
        }
        pull.limit = pageLimit(pull.progress)
        return .pullPage(since: pull.cursor, limit: pull.limit, wait: pull.wait)
    }

    /// Records to ask for in the next page: the adaptive size, held to the page's byte budget
    /// (rule 1).
    private func pageLimit(_ progress: PullProgress) -> Int {
        guard let pageBytes = configuration.pageBytes else { return pageSize.current }
        let share =
            progress.failed || progress.fastestPage < PullProgress.costlyRoundTrip
            ? Double(progress.bytes) / 20 : progress.expectedBytes / 15
        let budget = max(Double(pageBytes), share)
        return max(1, min(pageSize.current, Int(budget / progress.bytesPerRecord)))
    }

    // MARK: - Failures

    /// A request failed at `now` (seconds on the engine's clock); `random` in 0..<1 draws the
    /// backoff's jitter.
    public mutating func failed(_ failure: Failure, now: Double, random: Double) -> Action {
        switch phase {
        case .finished:
            return .fail
        case .pushing(var push):
            defer { phase = .pushing(push) }
            switch failure {
            case .tooLarge:
                retry.succeeded()  // An answer came: the link works, the request was too large.
                if push.sending <= 1 { return .rejectAlone }
                batchSize.shrink(below: push.sending)
                summary.retries += 1
                return nextPush(&push)
            case .cursorGone, .notFound, .permanent:
                return .fail
            case .transient, .link:
                guard let delay = backOff(failure, now: now, random: random) else { return .giveUp }
                // A batch the byte limit cut was smaller than the size: halve what was sent.
                if push.cutByBytes { batchSize.shrink(below: push.sending) } else { batchSize.shrink() }
                return .retry(after: delay, nextPush(&push))
            }
        case .pulling(var pull):
            defer { phase = .pulling(pull) }
            switch failure {
            case .cursorGone where pull.cursor != nil:
                retry.succeeded()
                return .forgetCursor
            case .notFound where pull.streaming:
                retry.succeeded()  // An answer came: the server has no stream, pull page by page.
                pull.streaming = false
                return request(&pull)
            case .tooLarge, .cursorGone, .notFound, .permanent:
                return .fail
            case .transient, .link:
                guard let delay = backOff(failure, now: now, random: random) else { return .giveUp }
                if !pull.streaming {
                    pull.progress.failed = true
                    pageSize.shrink(below: pull.limit)
                }
                return .retry(after: delay, request(&pull))
            }
        }
    }

    /// Rule 1 of ``RetryPolicy``: the seconds to wait before trying again, or nil when the stall
    /// has spent its budget.
    private mutating func backOff(_ failure: Failure, now: Double, random: Double) -> Double? {
        var retryAfter: Double?
        if case .transient(let seconds) = failure { retryAfter = seconds }
        switch retry.failed(now: now, random: random, retryAfter: retryAfter, link: failure == .link) {
        case .giveUp:
            return nil
        case .retry(let delay):
            summary.retries += 1
            return delay
        }
    }

    /// Grows or shrinks `size` after a success that took `seconds` (<doc:SyncAndResume>, rule 7).
    private func adapt(_ size: inout AdaptiveSize, full: Bool, seconds: Double) {
        if seconds >= configuration.slowRequest {
            size.shrink()
        } else if full && seconds <= configuration.quickRequest {
            size.grow()
        }
    }
}

extension SyncStateMachine.Action {
    /// Whether this action sends the next batch.
    var isPush: Bool {
        if case .push = self { true } else { false }
    }
}

/// What a pull has received so far, for sizing its next page (``SyncStateMachine``, rule 1).
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
