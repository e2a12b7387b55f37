import Foundation
import HavenCore

/// How many wrong passphrases came in a row, and until when the next try is refused.
///
/// The rule: the first three wrong passphrases cost only their scrypt; after the third, each
/// further try is refused until a delay has passed, 30 s doubling with every wrong one, at most
/// an hour. A right passphrase clears the count. A try while refused is not judged at all, so
/// it teaches a guesser nothing (the duress passphrase still works: ReplicaUnlock.swift).
///
/// This slows someone who has the device and `haven`; someone who copied the key file guesses
/// offline, and only scrypt's cost slows them (ReplicaKeyFile.swift).
struct PassphraseAttempts: Codable, Sendable, Equatable {
    /// Wrong passphrases since the last right one.
    var failures = 0
    /// Seconds since 1970 before which every try is refused; 0 when none is.
    var refusedUntil: Int64 = 0

    static let freeFailures = 3
    static let firstDelay: Int64 = 30
    static let longestDelay: Int64 = 3_600

    /// Why a try at `now` is refused, or nil when it may go ahead.
    func refusal(now: Date) -> Words? {
        wait(now: now).map {
            Words(
                "too many wrong passphrases in a row: the next try is allowed in \($0) s",
                korean: "틀린 암호문구를 연달아 너무 많이 입력했습니다: \($0)초 뒤에 다시 입력할 수 있습니다")
        }
    }

    /// Seconds from `now` until a try is allowed, or nil when one is.
    private func wait(now: Date) -> Int64? {
        let wait = refusedUntil - Int64(now.timeIntervalSince1970.rounded(.down))
        return wait > 0 ? wait : nil
    }

    /// Counts one wrong passphrase at `now`.
    mutating func recordFailure(now: Date) {
        failures += 1
        guard failures >= Self.freeFailures else { return }
        let doublings = min(failures - Self.freeFailures, 10)
        let delay = min(Self.firstDelay << doublings, Self.longestDelay)
        refusedUntil = Int64(now.timeIntervalSince1970.rounded(.down)) + delay
    }
}
