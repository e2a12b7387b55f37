import Foundation
import HavenCore
import Synchronization
import TestSupport

/// A client that pushes batches of new stories and edits as fast as the servers answer, the way
/// `haven sync` does: a batch that gets no 2xx answer is sent again, same change ids, until one
/// does. It remembers every change a server acknowledged (`applied` or `duplicate` in a 2xx).
///
/// For the kill and two-instance tests, which then look for each acknowledged change in the log.
struct PushingClient {
    /// What a run of the client leaves for the test to check.
    struct Outcome: Sendable {
        /// Change id → the status of the 2xx answer that acknowledged it.
        var acknowledged: [String: PushResult.Status] = [:]
        /// Per record, the winning `title` register among the acknowledged changes: what the
        /// merged state must hold, by the merge rules, once everything is in.
        var titles: [String: Register] = [:]
        /// Changes a 2xx answer rejected, and answers that did not match the batch sent.
        var anomalies: [String] = []
        /// Requests that got no 2xx answer (connection refused or reset, 5xx) and were re-sent.
        var failedRequests = 0
        /// Batches sent at least twice: after a kill, the first answer was lost.
        var resentBatches = 0
    }

    let replica: ReplicaID
    let token: String
    /// Records every client may edit.
    let shared: [String]
    private var clock: HybridLogicalClock
    private var counter = 0
    private var random: SplitMix64
    /// Records this client created and saw acknowledged: it edits them too.
    private var own: [String] = []
    /// One HTTP client per server address, each with its own connections.
    private var clients: [String: LiveClient] = [:]
    private(set) var outcome = Outcome()

    init(replica: String, token: String, shared: [String] = [], seed: UInt64) {
        self.replica = ReplicaID(replica)!
        self.token = token
        self.shared = shared
        self.clock = HybridLogicalClock(replica: self.replica)
        self.random = SplitMix64(seed: seed)
    }

    /// A batch of 1 to `maxSize` changes: new stories, and new titles for shared and own records.
    mutating func nextBatch(maxSize: Int = 8) -> [Change] {
        let size = 1 + Int(random.next() % UInt64(maxSize))
        return (0..<size).map { _ in
            counter += 1
            let id = "\(replica)-\(counter)"
            let roll = random.next() % 10
            let title = "Title \(id)"
            if roll < 4, !shared.isEmpty {
                return edit(shared[Int(random.next() % UInt64(shared.count))], id: id, title: title)
            }
            if roll < 6, !own.isEmpty {
                return edit(own[Int(random.next() % UInt64(own.count))], id: id, title: title)
            }
            let stamp = clock.now()
            let fields: [String: JSONValue] = [
                "title": .string(title), "body": .string("Written by \(replica) in change \(counter)."),
                "language": "en", "status": "published",
            ]
            return Change(
                id: id, base: nil,
                record: RecordState(
                    id: RecordID.random(), kind: .story, fields: fields.mapValues { Register($0, stamp: stamp) }))
        }
    }

    private mutating func edit(_ record: String, id: String, title: String) -> Change {
        Change(
            id: id, base: nil,
            record: RecordState(id: record, kind: .story, fields: ["title": Register(.string(title), stamp: clock.now())]))
    }

    /// Sends `batch` to the server that `address` names at each try, through URLSession, until
    /// one answers 2xx, waiting `pause` between tries; gives up after `attempts`.
    mutating func push(
        _ batch: [Change], to address: (Int) -> String, pause: Duration = .milliseconds(20), attempts: Int = 3_000
    ) async {
        for attempt in 0..<attempts {
            let server = address(attempt)
            let client = clients[server] ?? LiveClient(server: server, token: token)
            clients[server] = client
            let answer = try? await client.push(batch)
            if settle(batch, attempt: attempt, status: answer?.status, body: answer?.body) { return }
            try? await Task.sleep(for: pause)
        }
        outcome.anomalies.append("batch from \(batch[0].id) never answered 2xx in \(attempts) tries")
    }

    /// Sends `batch` to the loopback port that `port` names at each try, over a bare connection
    /// per try, until one answers 2xx, waiting `pause` between tries; gives up after `attempts`.
    /// Blocks: run it on a thread of its own.
    ///
    /// For servers that get killed: URLSession on Linux can crash the whole test process when
    /// many of its connections are refused or reset (swift-corelibs-foundation #4791 and kin).
    ///
    /// - Parameter inFlight: counts requests under way, for a test that wants to know whether a
    ///   kill caught one.
    mutating func pushBlocking(
        _ batch: [Change], toPort port: (Int) -> Int, inFlight: RequestCounter, pause: TimeInterval = 0.02,
        attempts: Int = 3_000
    ) {
        guard let body = try? JSONEncoder().encode(PushRequest(changes: batch)) else {
            outcome.anomalies.append("batch from \(batch[0].id) does not encode")
            return
        }
        for attempt in 0..<attempts {
            inFlight.enter()
            let answer = try? Self.post(body, port: port(attempt), token: token)
            inFlight.leave()
            if settle(batch, attempt: attempt, status: answer?.status, body: answer?.body) { return }
            Thread.sleep(forTimeInterval: pause)
        }
        outcome.anomalies.append("batch from \(batch[0].id) never answered 2xx in \(attempts) tries")
    }

    /// `POST /v1/changes` over a bare connection that the server closes after answering.
    private static func post(_ body: Data, port: Int, token: String) throws -> RawConnection.Response {
        let connection = try RawConnection(port: port, timeout: 30)
        let head =
            "POST /v1/changes HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAuthorization: Bearer \(token)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        try connection.write(Data(head.utf8) + body)
        var response = try connection.readResponse()
        if response.headers["transfer-encoding"]?.lowercased() == "chunked" {
            response.body = try dechunked(response.body)
        }
        return response
    }

    /// The body of a chunked response.
    private static func dechunked(_ data: Data) throws -> Data {
        var rest = data[...]
        var body = Data()
        let lineEnd = Data("\r\n".utf8)
        while let end = rest.range(of: lineEnd) {
            let sizeText = String(decoding: rest[..<end.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                throw ClientFailure("bad chunk size '\(sizeText)'")
            }
            if size == 0 { return body }
            let start = end.upperBound
            guard rest.count >= start - rest.startIndex + size else { throw ClientFailure("chunk cut short") }
            body.append(rest[start..<start + size])
            rest = rest[(start + size + 2)...]
        }
        throw ClientFailure("chunked body without its last chunk")
    }

    /// Takes in the answer to one try of `batch` (nil when none came); returns whether the batch
    /// is done with: answered 2xx, or refused for good.
    private mutating func settle(_ batch: [Change], attempt: Int, status: Int?, body: Data?) -> Bool {
        if attempt == 1 { outcome.resentBatches += 1 }
        guard let status, let body, (200..<300).contains(status) else {
            if let status, (400..<500).contains(status), status != 429 {
                outcome.anomalies.append(
                    "batch from \(batch[0].id) refused \(status): \(String(decoding: body ?? Data(), as: UTF8.self))")
                return true
            }
            outcome.failedRequests += 1
            return false
        }
        record(body, for: batch)
        return true
    }

    private mutating func record(_ body: Data, for batch: [Change]) {
        guard let response = try? JSONDecoder().decode(PushResponse.self, from: body),
            response.results.map(\.id) == batch.map(\.id)
        else {
            outcome.anomalies.append("answer to the batch from \(batch[0].id) does not list its changes in order")
            return
        }
        for (change, result) in zip(batch, response.results) {
            switch result.status {
            case .applied, .duplicate:
                outcome.acknowledged[change.id] = result.status
                let record = change.record
                outcome.titles[record.id] = Register.winner(outcome.titles[record.id], record.fields["title"])
                if record.fields["body"] != nil { own.append(record.id) }
            case .rejected:
                outcome.anomalies.append("change \(change.id) rejected: \(result.error?.description ?? "no reason")")
            }
        }
    }
}

/// How many requests are under way, shared between tasks.
final class RequestCounter: Sendable {
    private let count = Atomic<Int>(0)

    func enter() { count.add(1, ordering: .relaxed) }
    func leave() { count.subtract(1, ordering: .relaxed) }
    var current: Int { count.load(ordering: .relaxed) }
}

/// A value shared between tasks behind a lock.
final class LockedValue<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    var value: Value {
        get { mutex.withLock { $0 } }
        set { mutex.withLock { $0 = newValue } }
    }

    /// Reads and changes the value in one step.
    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result { mutex.withLock { body(&$0) } }
}
