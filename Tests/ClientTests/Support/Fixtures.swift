import Crypto
import Foundation
import HavenCore
import TestSupport

@testable import HavenClient

/// Values the client tests share: a fixed time, remote stamps, cursors and valid records.
enum Fixtures {
    /// 2024-11-14T22:13:20Z, a round wall time in milliseconds.
    static let epoch: UInt64 = 1_731_622_400_000
    static let server = URL(string: "http://haven.test")!
    static let token = "field-token"
    /// The key of every replica `makeEmptyReplica` makes, if they are encrypted.
    static var encryptionKey: SymmetricKey? {
        ProcessInfo.processInfo.environment["HAVEN_TEST_ENCRYPTED_REPLICAS"] == "1"
            ? SymmetricKey(data: [UInt8](repeating: 0x5a, count: 32)) : nil
    }
    /// The replica that "other devices" write with.
    static let remote = ReplicaID("b0b")!

    /// A stamp written by another replica.
    static func stamp(_ physical: UInt64, _ counter: UInt16 = 0, replica: ReplicaID = remote) -> Timestamp {
        Timestamp(physical: physical, counter: counter, replica: replica)
    }

    /// A cursor of the test server's store.
    static func cursor(_ seq: Int64) -> SyncCursor { SyncCursor(epoch: "5f1c0a9e", seq: seq) }

    /// The fields of a valid story.
    static func story(_ title: String = "Crossing the Tumen", body: String = "We left at night.") -> [String: JSONValue]
    {
        ["title": .string(title), "body": .string(body), "language": "en"]
    }

    /// A pulled delta: the given fields of a story, each written at `stamp`.
    static func storyDelta(_ id: String, _ fields: [String: JSONValue], at stamp: Timestamp, deleted: Bool? = nil)
        -> RecordState
    {
        RecordState(
            id: id, kind: .story, fields: fields.mapValues { Register($0, stamp: stamp) },
            deleted: deleted.map { Register(.bool($0), stamp: stamp) })
    }

    /// A page of a pull answer.
    static func page(
        _ changes: [RecordState], removed: [String] = [], conflicts: [Conflict] = [], cursor: SyncCursor,
        more: Bool = false
    ) -> PullResponse {
        PullResponse(
            changes: changes, removed: removed, conflicts: conflicts, cursor: cursor, more: more, serverTime: epoch)
    }
}

/// A new, empty replica file in the current test's temporary directory; encrypted when
/// `HAVEN_TEST_ENCRYPTED_REPLICAS=1`, to run every client test through the encrypted VFS.
func makeEmptyReplica(
    named name: String = "replica.sqlite", token: String = Fixtures.token,
    wallClock: ManualClock = ManualClock(Fixtures.epoch)
) throws -> Replica {
    try Replica.create(
        at: TemporaryDirectory.path(name), server: Fixtures.server, token: token,
        encryptionKey: Fixtures.encryptionKey, wallClock: wallClock.read)
}

/// A sync engine for `replica` over `transport`, with the replica's server and token, on a
/// clock that never waits, drawing `random` for every backoff's jitter (the longest wait unless
/// told). It pulls page by page unless `streams` (the suites of the paged pull look at each
/// page; the streamed pull has its own, and the end-to-end suites run it through `haven`).
func makeEngine(
    _ replica: Replica, _ transport: any HTTPTransport, _ configuration: SyncEngine.Configuration = .init(),
    clock: ManualClock = ManualClock(0), random: Double = 1, streams: Bool = false,
    progress: (@Sendable (SyncProgress) -> Void)? = nil
) throws -> SyncEngine {
    var configuration = configuration
    configuration.streams = streams
    let settings = try replica.settings()
    return SyncEngine(
        replica: replica, api: ServerAPI(server: settings.server, token: settings.token, transport: transport),
        configuration: configuration, clock: clock.syncClock, random: { random }, progress: progress)
}

/// Record ids that share a prefix, for the prefix-matching rules.
enum RecordIDs {
    static let first = "abcd1111-0000-4000-8000-000000000001"
    static let second = "abcd2222-0000-4000-8000-000000000002"
    static let third = "0c0c3333-0000-4000-8000-000000000003"
    static let fourth = "0d0d4444-0000-4000-8000-000000000004"
}
