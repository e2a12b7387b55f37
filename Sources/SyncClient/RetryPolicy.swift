/// When to try a failed request again, and when to stop (DESIGN §5).
///
/// Rule 1. Only transient failures are retried: the link dropped or timed out, or the server
/// answered 408, 429 or 5xx. Any other answer stops the sync at once (see SyncFailure.swift).
///
/// Rule 2. The n-th retry in a row waits a random time between zero and
/// `min(cap, base × 2ⁿ⁻¹)` ("full jitter"), so that many devices cut off together do not all come
/// back in the same second.
///
/// Rule 2a. A failure of the link itself (no answer: a reset, a timeout, a refused connection, a
/// stream cut short) is probed again quickly instead: waits drawn the same way from
/// `min(linkCap, linkBase × 2ⁿ⁻¹)`, sub-second, so a link that comes back is used at once rather
/// than left idle through a long backoff: drawn up to a quarter of a second, a link back from a
/// blackout waits about 80 ms on average for its next probe (a refused connection costs a
/// packet each way). Only a server that answered (429, 5xx) is given room.
///
/// Rule 3. A `Retry-After` from the server is a floor: the wait is never shorter. A floor beyond
/// ``maxRetryAfter`` is held to it: a broken or hostile server cannot park a device for days.
///
/// Rule 4. The budget counts one stall: failures with no success between them. A sync that keeps
/// making progress on a bad link goes on; one that gets nothing through for `budget` seconds, or
/// for `maxAttempts` attempts, gives up. A retry that would start after the budget is not made.
/// `nil` keeps trying forever (`haven sync --watch`).
///
/// For example:
/// ```swift
/// var retry = RetryState(policy: RetryPolicy(budget: 60))
/// switch retry.failed(now: clock.now(), random: Double.random(in: 0..<1), retryAfter: nil) {
/// case .retry(let seconds): try await clock.sleep(seconds)
/// case .giveUp: throw …
/// }
/// ```
public struct RetryPolicy: Sendable, Equatable {
    /// The longest first wait, in seconds.
    public var base: Double
    /// No wait is drawn from a range longer than this, in seconds.
    public var cap: Double
    /// Seconds a stall may last before the sync gives up; nil for never.
    public var budget: Double?
    /// Attempts in one stall, the first included, before the sync gives up; nil for no limit.
    public var maxAttempts: Int?
    /// The longest first wait after a failure of the link, in seconds (rule 2a).
    public var linkBase: Double
    /// No wait after a failure of the link is drawn from a range longer than this, in seconds.
    public var linkCap: Double

    /// A policy; waits are in seconds, and a nil `budget` or `maxAttempts` sets no bound.
    public init(
        base: Double = 0.5, cap: Double = 30, budget: Double? = 300, maxAttempts: Int? = nil, linkBase: Double = 0.1,
        linkCap: Double = 0.25
    ) {
        self.base = base
        self.cap = cap
        self.linkBase = linkBase
        self.linkCap = linkCap
        self.budget = budget
        self.maxAttempts = maxAttempts
    }

    /// The longest `Retry-After` honoured, in seconds (an hour); a longer one waits this long.
    public static let maxRetryAfter: Double = 3_600

    /// Retries as long as it takes, for `haven sync --watch`.
    public static let forever = RetryPolicy(budget: nil)

    /// The top of the range the n-th retry in a row (from 1) draws its wait from.
    public func ceiling(forRetry retry: Int, link: Bool = false) -> Double {
        // 2^(retry - 1) without overflow: past 2^62 the cap has long been reached.
        let doubling = Double(sign: .plus, exponent: min(max(retry - 1, 0), 62), significand: 1)
        return link ? min(linkCap, linkBase * doubling) : min(cap, base * doubling)
    }

    /// The wait before the n-th retry in a row: `random` (in 0..<1) of the ceiling, at least
    /// `retryAfter` (held to ``maxRetryAfter``).
    public func delay(forRetry retry: Int, random: Double, retryAfter: Double? = nil, link: Bool = false) -> Double {
        let jittered = ceiling(forRetry: retry, link: link) * min(max(random, 0), 1)
        // NaN compares false both ways: it asks for no wait.
        guard let retryAfter, retryAfter > 0 else { return jittered }
        return max(jittered, min(retryAfter, Self.maxRetryAfter))
    }
}

/// The retry rules applied to one run of requests: counts failures in a row and decides whether
/// to wait and try again. Free of I/O; the engine sleeps.
struct RetryState: Sendable {
    enum Decision: Sendable, Equatable {
        /// Wait this many seconds, then try again.
        case retry(after: Double)
        /// The budget is spent: stop and say so.
        case giveUp
    }

    let policy: RetryPolicy
    /// Failed attempts in the current stall.
    private(set) var failures = 0
    /// When the current stall began (the first failure's reading of the clock).
    private(set) var stallStart: Double?

    init(policy: RetryPolicy) {
        self.policy = policy
    }

    /// Seconds the current stall has lasted at `now`.
    func stalled(at now: Double) -> Double {
        stallStart.map { now - $0 } ?? 0
    }

    /// Records a transient failure at `now` and says what to do next.
    mutating func failed(now: Double, random: Double, retryAfter: Double?, link: Bool = false) -> Decision {
        if stallStart == nil { stallStart = now }
        failures += 1
        if let maxAttempts = policy.maxAttempts, failures >= maxAttempts { return .giveUp }
        let delay = policy.delay(forRetry: failures, random: random, retryAfter: retryAfter, link: link)
        if let budget = policy.budget, stalled(at: now) + delay > budget { return .giveUp }
        return .retry(after: delay)
    }

    /// Records a success: the stall is over and the next failure starts a new one.
    mutating func succeeded() {
        failures = 0
        stallStart = nil
    }
}
