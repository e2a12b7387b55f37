import Foundation
import Testing

@testable import HavenClient

/// The backoff schedule, its jitter, `Retry-After` and the budget, free of any I/O.
struct RetryPolicyTests {
    @Test(arguments: [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (6, 16.0), (7, 30.0), (8, 30.0), (500, 30.0)])
    func ceilingDoublesFromTheBaseUpToTheCap(retry: Int, ceiling: Double) {
        #expect(RetryPolicy(base: 0.5, cap: 30).ceiling(forRetry: retry) == ceiling)
    }

    @Test(arguments: [(1, 0.1), (2, 0.2), (3, 0.25), (4, 0.25), (30, 0.25), (500, 0.25)])
    func aFailedLinkIsProbedAgainWithinAQuarterOfASecond(retry: Int, ceiling: Double) {
        #expect(RetryPolicy().ceiling(forRetry: retry, link: true) == ceiling)
    }

    @Test func aRetryAfterStillHoldsAfterAFailedLink() {
        #expect(RetryPolicy().delay(forRetry: 1, random: 1, retryAfter: 7, link: true) == 7)
    }

    @Test(arguments: 1...12)
    func jitteredDelayStaysWithinZeroAndTheCeiling(retry: Int) {
        // Given the default policy
        let policy = RetryPolicy()
        let ceiling = policy.ceiling(forRetry: retry)

        // Then every draw lands in [0, ceiling], the lowest at 0 and the highest at the ceiling
        for random in stride(from: 0.0, through: 1.0, by: 0.05) {
            let delay = policy.delay(forRetry: retry, random: random)
            #expect(delay >= 0 && delay <= ceiling, "retry \(retry), random \(random): \(delay)")
        }
        #expect(policy.delay(forRetry: retry, random: 0) == 0)
        #expect(policy.delay(forRetry: retry, random: 1) == ceiling)
        #expect(policy.delay(forRetry: retry, random: 0.5) == ceiling / 2)
    }

    @Test func retryAfterIsAFloorUnderTheJitter() {
        let policy = RetryPolicy()

        #expect(policy.delay(forRetry: 1, random: 0, retryAfter: 7) == 7)
        #expect(policy.delay(forRetry: 10, random: 1, retryAfter: 7) == 30)
    }

    @Test func stallGivesUpWhenTheNextRetryWouldEndPastTheBudget() {
        // Given a one-minute budget and the longest draws
        var retry = RetryState(policy: RetryPolicy(budget: 60))
        var now = 0.0
        var waits: [Double] = []

        // When every attempt fails
        while case .retry(let delay) = retry.failed(now: now, random: 1, retryAfter: nil) {
            waits.append(delay)
            now += delay
        }

        // Then it waited 0.5, 1, 2 … 16 s, and gave up rather than wait 30 s more past 60 s
        #expect(waits == [0.5, 1, 2, 4, 8, 16])
        #expect(retry.failures == 7)
        #expect(retry.stalled(at: now) == 31.5)
    }

    @Test func successEndsTheStallAndRestartsTheSchedule() {
        var retry = RetryState(policy: RetryPolicy(budget: 10))
        #expect(retry.failed(now: 0, random: 1, retryAfter: nil) == .retry(after: 0.5))
        #expect(retry.failed(now: 0.5, random: 1, retryAfter: nil) == .retry(after: 1))

        retry.succeeded()

        #expect(retry.failures == 0)
        #expect(retry.failed(now: 100, random: 1, retryAfter: nil) == .retry(after: 0.5))
        #expect(retry.stalled(at: 100) == 0)
    }

    @Test func attemptLimitCountsTheFirstAttempt() {
        var retry = RetryState(policy: RetryPolicy(budget: nil, maxAttempts: 3))

        #expect(retry.failed(now: 0, random: 0, retryAfter: nil) == .retry(after: 0))
        #expect(retry.failed(now: 0, random: 0, retryAfter: nil) == .retry(after: 0))
        #expect(retry.failed(now: 0, random: 0, retryAfter: nil) == .giveUp)
    }

    @Test func foreverNeverGivesUp() {
        var retry = RetryState(policy: .forever)
        for attempt in 0..<10_000 {
            #expect(retry.failed(now: Double(attempt) * 30, random: 1, retryAfter: 3600) != .giveUp)
        }
    }

    @Test func retryAfterLongerThanTheBudgetGivesUpAtOnce() {
        var retry = RetryState(policy: RetryPolicy(budget: 300))

        #expect(retry.failed(now: 0, random: 0, retryAfter: 3600) == .giveUp)
    }

    @Test(
        arguments: [
            ("120", 120.0), ("0", 0), (" 5 ", 5), ("-3", 0), ("soon", nil),
            ("Thu, 14 Nov 2024 22:15:20 GMT", 120),
        ] as [(String, Double?)])
    func retryAfterReadsSecondsAndDates(value: String, seconds: Double?) {
        let now = Date(timeIntervalSince1970: 1_731_622_400)  // 2024-11-14T22:13:20Z
        #expect(ServerError.retryAfter(value, now: now) == seconds)
    }
}
