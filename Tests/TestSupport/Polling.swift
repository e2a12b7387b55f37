import Foundation

/// Waiting on observed progress: the one place tests poll. A condition is checked again and
/// again, a moment apart, until it holds; the outcome is decided by the condition, and the limit
/// only stops a hang.
///
/// For example:
/// ```swift
/// try Polling.until("a push under way") { proxy.isHolding }
/// ```
public enum Polling {
    /// How long to wait before checking again: short enough not to miss a moment, long enough
    /// not to keep a core busy.
    public static let interval: TimeInterval = 0.002

    /// Returns once `condition` holds; throws ``Failure`` naming `what` after `limit` seconds.
    public static func until(_ what: String, limit: TimeInterval = 120, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(limit)
        while try !condition() {
            guard Date() < deadline else { throw Failure(what: what, limit: limit) }
            Thread.sleep(forTimeInterval: interval)
        }
    }

    /// Returns once `condition` holds; throws ``Failure`` naming `what` after `limit` seconds.
    ///
    /// In async code, mark a condition that does not await as `{ () async in … }`, so that this
    /// overload is chosen: it pauses between checks without holding a thread of the pool.
    public static func until(_ what: String, limit: TimeInterval = 120, _ condition: () async throws -> Bool)
        async throws
    {
        let deadline = Date().addingTimeInterval(limit)
        while try await !condition() {
            guard Date() < deadline else { throw Failure(what: what, limit: limit) }
            try await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
        }
    }

    /// A condition that never held.
    public struct Failure: Error, CustomStringConvertible {
        public var what: String
        public var limit: TimeInterval
        public var description: String { "\(what): not within \(Int(limit)) s" }
    }
}
