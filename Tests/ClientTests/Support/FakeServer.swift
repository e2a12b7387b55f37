import Foundation
import HavenCore

@testable import HavenClient

/// A tiny in-memory Haven server behind ``HTTPTransport``: it applies pushed changes (answering
/// `duplicate` for ones it has, `clock_ahead` for stamps beyond its drift, and whatever `reject`
/// says), serves scripted pull pages by the `since` they start from, inflates gzipped bodies,
/// and records what it got.
actor FakeServer: HTTPTransport {
    /// A one-shot failure for a request.
    enum Fault: Sendable {
        /// The link drops: `send` throws.
        case dropLink
        /// The server answers this status with a JSON error.
        case status(Int, code: String, message: String)
        /// The server answers this status with `Retry-After: value`.
        case retryAfter(Int, value: String)
    }

    struct LinkDropped: Error {}

    private let token: String
    /// Pull pages by the `since` they answer (nil: from the start).
    private var pages: [String?: PullResponse]
    /// Cursors answered `410 cursor_expired`.
    private var expired: Set<String>
    /// Failures served once, then the page is served.
    private var faults: [String?: Fault]
    /// Failures served to the next push requests, one each, in order.
    private var pushFaults: [Fault]
    /// Called on each pull, before answering: lets a test look at the replica mid-sync.
    private let observe: (@Sendable () throws -> String?)?
    /// The server's clock, and how far ahead of it a stamp may be.
    private let serverTime: UInt64
    private let maxDrift: UInt64
    /// Larger (inflated) push bodies are answered 413.
    private let maxBodyBytes: Int
    /// A rejection for a change, or nil to apply it.
    private let reject: (@Sendable (Change) -> ErrorDetail?)?

    /// Each push request's changes, in order, whatever the answer.
    private(set) var pushedBatches: [[Change]] = []
    /// The `Content-Encoding` of each push request.
    private(set) var pushEncodings: [String?] = []
    /// The size of each push request's body as sent.
    private(set) var pushBodySizes: [Int] = []
    /// Changes applied, in order: each id at most once.
    private(set) var applied: [Change] = []
    /// The `since` of each pull request, in order (nil: none given).
    private(set) var pulledSince: [String?] = []
    /// The `limit` of each pull request.
    private(set) var pulledLimits: [Int] = []
    /// The `Accept-Encoding` of every request.
    private(set) var acceptEncodings: [String?] = []
    /// What `observe` returned at each pull.
    private(set) var observations: [String?] = []

    init(
        token: String = Fixtures.token, pages: [SyncCursor?: PullResponse] = [:], expired: Set<SyncCursor> = [],
        faults: [SyncCursor?: Fault] = [:], pushFaults: [Fault] = [], observe: (@Sendable () throws -> String?)? = nil,
        serverTime: UInt64 = Fixtures.epoch, maxDrift: UInt64 = 10 * 60_000, maxBodyBytes: Int = .max,
        reject: (@Sendable (Change) -> ErrorDetail?)? = nil
    ) {
        self.token = token
        self.pages = Dictionary(uniqueKeysWithValues: pages.map { ($0.key?.description, $0.value) })
        self.expired = Set(expired.map(\.description))
        self.faults = Dictionary(uniqueKeysWithValues: faults.map { ($0.key?.description, $0.value) })
        self.pushFaults = pushFaults
        self.observe = observe
        self.serverTime = serverTime
        self.maxDrift = maxDrift
        self.maxBodyBytes = maxBodyBytes
        self.reject = reject
    }

    /// Every request, pushes and pulls.
    var requestCount: Int { acceptEncodings.count }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        acceptEncodings.append(request.headers["Accept-Encoding"])
        guard request.headers["Authorization"] == "Bearer \(token)" else {
            return Self.error(401, code: "unauthorized", message: "the token is unknown, expired or revoked")
        }
        let components = URLComponents(url: request.url, resolvingAgainstBaseURL: false)!
        switch (request.method, components.path) {
        case ("POST", "/v1/changes"):
            return try push(request)
        case ("GET", "/v1/changes"):
            let query = components.queryItems ?? []
            let since = query.first { $0.name == "since" }?.value
            pulledSince.append(since)
            pulledLimits.append(query.first { $0.name == "limit" }?.value.flatMap { Int($0) } ?? -1)
            if let observe { observations.append(try observe()) }
            if let answer = try answer(faults.removeValue(forKey: since)) { return answer }
            if let since, expired.contains(since) {
                return Self.error(
                    410, code: "cursor_expired", message: "cursor \(since) is older than the retention window")
            }
            guard let page = pages[since] else {
                return Self.error(400, code: "invalid_cursor", message: "no scripted page for since=\(since ?? "none")")
            }
            return try Self.json(page)
        default:
            return Self.error(404, code: "not_found", message: "no route \(request.method) \(components.path)")
        }
    }

    private func push(_ request: HTTPRequest) throws -> HTTPResponse {
        let encoding = request.headers["Content-Encoding"]
        pushEncodings.append(encoding)
        pushBodySizes.append(request.body?.count ?? 0)
        let body = encoding == "gzip" ? try Gzip.decompress(request.body ?? Data()) : request.body ?? Data()
        let push = try JSONDecoder().decode(PushRequest.self, from: body)
        pushedBatches.append(push.changes)
        if !pushFaults.isEmpty, let answer = try answer(pushFaults.removeFirst()) { return answer }
        if body.count > maxBodyBytes {
            return Self.error(413, code: "too_large", message: "request body exceeds \(maxBodyBytes) bytes")
        }
        let results = push.changes.map { change -> PushResult in
            if applied.contains(where: { $0.id == change.id }) { return PushResult(id: change.id, status: .duplicate) }
            if let latest = change.record.latestStamp, latest.physical > serverTime + maxDrift {
                return PushResult(
                    id: change.id, status: .rejected,
                    error: ErrorDetail(code: .clockAhead, message: "record \(change.record.id): stamp ahead"))
            }
            if let error = reject?(change) { return PushResult(id: change.id, status: .rejected, error: error) }
            applied.append(change)
            return PushResult(id: change.id, status: .applied)
        }
        return try Self.json(PushResponse(results: results, serverTime: serverTime))
    }

    private func answer(_ fault: Fault?) throws -> HTTPResponse? {
        switch fault {
        case .dropLink: throw LinkDropped()
        case .status(let status, let code, let message): return Self.error(status, code: code, message: message)
        case .retryAfter(let status, let value):
            var response = Self.error(
                status, code: status == 429 ? "rate_limited" : "unavailable", message: "wait")
            response.headers["retry-after"] = value
            return response
        case nil: return nil
        }
    }

    private static func json(_ value: some Encodable) throws -> HTTPResponse {
        HTTPResponse(status: 200, body: try JSONEncoder().encode(value))
    }

    private static func error(_ status: Int, code: String, message: String) -> HTTPResponse {
        HTTPResponse(
            status: status, body: try! JSONEncoder().encode(ErrorBody(ErrorDetail(code: ErrorCode(rawValue: code), message: message))))
    }
}
