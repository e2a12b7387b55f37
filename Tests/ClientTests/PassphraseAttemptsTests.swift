import Foundation
import Testing

@testable import HavenClient

/// The slowdown after wrong passphrases, on an injected clock.
struct PassphraseAttemptsTests {
    /// (wrong passphrases in a row, seconds the next try waits)
    @Test(arguments: [(1, 0), (2, 0), (3, 30), (4, 60), (5, 120), (8, 960), (9, 1_920), (10, 3_600), (40, 3_600)])
    func waitsGrowAfterTheThirdWrongPassphrase(failures: Int, wait: Int64) {
        let now = Date(timeIntervalSince1970: 1_000_000)
        var attempts = PassphraseAttempts()
        for _ in 0..<failures { attempts.recordFailure(now: now) }
        #expect(attempts.refusedUntil == (wait == 0 ? 0 : 1_000_000 + wait))
        #expect((attempts.refusal(now: now) != nil) == (wait > 0))
    }

    @Test func aTryIsAllowedOnceTheWaitHasPassed() {
        let start = Date(timeIntervalSince1970: 1_000_000)
        var attempts = PassphraseAttempts()
        for _ in 0..<3 { attempts.recordFailure(now: start) }
        #expect(attempts.refusal(now: start.addingTimeInterval(29))?.english.contains("allowed in 1 s") == true)
        #expect(attempts.refusal(now: start.addingTimeInterval(30)) == nil)
    }
}
