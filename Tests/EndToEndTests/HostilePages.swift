import Foundation
import HavenCore
import Synchronization
import Testing
import TestSupport

/// Text a test sets once it knows it, for a server script that was made before.
final class SharedText: Sendable {
    private let text = Mutex("")
    var value: String {
        get { text.withLock { $0 } }
        set { text.withLock { $0 = newValue } }
    }
}

/// Answers for ``HostileServer`` in the sync protocol's own shapes, and a device pointed at it.
enum HostilePages {
    static let epoch = "0123456789abcdef"
    static let token = "hvn_hostile-server-test-token"

    /// A stamp of now, from a replica that is not the device's.
    static func stamp() -> Timestamp {
        Timestamp(physical: UInt64(Date().timeIntervalSince1970 * 1000), counter: 0, replica: ReplicaID("5e7e7")!)
    }

    /// A pull answer, as JSON.
    static func page(
        _ changes: [RecordState] = [], removed: [String] = [], conflicts: [Conflict] = [], cursor: Int64 = 1,
        more: Bool = false
    ) -> String {
        let page = PullResponse(
            changes: changes, removed: removed, conflicts: conflicts, cursor: SyncCursor(epoch: epoch, seq: cursor),
            more: more, serverTime: stamp().physical)
        return String(decoding: try! JSONEncoder().encode(page), as: UTF8.self)
    }

    /// A story with every required field.
    static func story(id: String, title: String, body: String = "Body", extra: [String: JSONValue] = [:]) -> RecordState {
        let values: [String: JSONValue] = ["title": .string(title), "body": .string(body), "language": .string("en")]
        return RecordState(
            id: id, kind: .story,
            fields: values.merging(extra) { $1 }.mapValues { Register($0, stamp: stamp()) })
    }

    /// A one-page answer around a story whose title goes between the two halves.
    static func pageAroundTitle() -> (head: Data, tail: Data) {
        let marker = "TITLE-GOES-HERE"
        let text = page([story(id: "33333333-3333-4333-8333-333333333333", title: marker)])
        let parts = text.components(separatedBy: marker)
        return (Data(parts[0].utf8), Data(parts[1].utf8))
    }

    /// A record the schema forbids, and the words the error must name.
    struct Forbidden: Sendable, CustomTestStringConvertible {
        var state: RecordState
        var problem: String
        var testDescription: String { problem }
    }

    static let forbiddenRecords: [Forbidden] = {
        let id = "44444444-4444-4444-8444-444444444444"
        var notAFlag = story(id: id, title: "Odd flag")
        notAFlag.deleted = Register(.string("yes"), stamp: stamp())
        return [
            Forbidden(state: story(id: id, title: String(repeating: "t", count: 201)), problem: "title: must be at most 200"),
            Forbidden(state: story(id: id, title: "T", extra: ["language": .string("english please")]), problem: "language: must be a BCP 47"),
            Forbidden(state: story(id: id, title: "T", extra: ["bad-name": .string("x")]), problem: "bad-name: not a valid field name"),
            Forbidden(state: notAFlag, problem: "deleted: must be true or false"),
            Forbidden(state: story(id: "NOT-A-UUID", title: "T"), problem: "not a lowercase UUID"),
        ]
    }()

    /// A fresh replica in its own directory, pointed at `server`.
    static func device(for server: HostileServer) throws -> Device {
        let device = Device("hostile", in: try TemporaryDirectory())
        try device.haven("init", "--server", server.url, "--token", token, "--offline")
        return device
    }
}

extension Device {
    /// ``haven(_:sourceLocation:)`` on a thread of its own, so that a server answering on the
    /// test's cooperative threads is never starved by the wait.
    @discardableResult
    func offPool(_ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let result = try await offPoolResult(arguments)
        #expect(
            result.status == 0, "haven \(arguments.joined(separator: " ")) failed: \(result.stderr)",
            sourceLocation: sourceLocation)
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// ``havenResult(_:input:)`` on a thread of its own.
    func offPoolResult(_ arguments: [String], input: Data? = nil) async throws -> ProcessResult {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try havenResult(arguments, input: input) })
            }
        }
    }

    /// How many stories `haven stories list --json` shows.
    func storyCount() async throws -> Int {
        let output = try await offPool("stories", "list", "--json")
        return try #require(JSONSerialization.jsonObject(with: Data(output.utf8)) as? [Any]).count
    }
}
