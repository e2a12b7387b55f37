import Foundation
import HavenCore

@testable import HavenClient

/// A tiny in-memory Haven server behind ``HTTPTransport``: it answers every pushed change
/// `applied`, serves scripted pull pages by the `since` they start from, and records what it got.
actor FakeServer: HTTPTransport {
    /// A one-shot failure for a pull from a given cursor.
    enum Fault: Sendable {
        /// The link drops: `send` throws.
        case dropLink
        /// The server answers this status with a JSON error.
        case status(Int, code: String, message: String)
    }

    struct LinkDropped: Error {}

    private let token: String
    /// Pull pages by the `since` they answer (nil: from the start).
    private var pages: [String?: PullResponse]
    /// Cursors answered `410 cursor_expired`.
    private var expired: Set<String>
    /// Failures served once, then the page is served.
    private var faults: [String?: Fault]
    /// Called on each pull, before answering: lets a test look at the replica mid-sync.
    private let observe: (@Sendable () throws -> String?)?

    /// Each push request's changes, in order.
    private(set) var pushedBatches: [[Change]] = []
    /// The `since` of each pull request, in order (nil: none given).
    private(set) var pulledSince: [String?] = []
    /// The `limit` of each pull request.
    private(set) var pulledLimits: [Int] = []
    /// What `observe` returned at each pull.
    private(set) var observations: [String?] = []

    init(
        token: String = Fixtures.token, pages: [SyncCursor?: PullResponse] = [:], expired: Set<SyncCursor> = [],
        faults: [SyncCursor?: Fault] = [:], observe: (@Sendable () throws -> String?)? = nil
    ) {
        self.token = token
        self.pages = Dictionary(uniqueKeysWithValues: pages.map { ($0.key?.description, $0.value) })
        self.expired = Set(expired.map(\.description))
        self.faults = Dictionary(uniqueKeysWithValues: faults.map { ($0.key?.description, $0.value) })
        self.observe = observe
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard request.headers["Authorization"] == "Bearer \(token)" else {
            return Self.error(401, code: "unauthorized", message: "the token is unknown, expired or revoked")
        }
        let components = URLComponents(url: request.url, resolvingAgainstBaseURL: false)!
        switch (request.method, components.path) {
        case ("POST", "/v1/changes"):
            let push = try JSONDecoder().decode(PushRequest.self, from: request.body ?? Data())
            pushedBatches.append(push.changes)
            let results = push.changes.map { PushResult(id: $0.id, status: .applied) }
            return try Self.json(PushResponse(results: results, serverTime: Fixtures.epoch))
        case ("GET", "/v1/changes"):
            let query = components.queryItems ?? []
            let since = query.first { $0.name == "since" }?.value
            pulledSince.append(since)
            pulledLimits.append(query.first { $0.name == "limit" }?.value.flatMap { Int($0) } ?? -1)
            if let observe { observations.append(try observe()) }
            switch faults.removeValue(forKey: since) {
            case .dropLink: throw LinkDropped()
            case .status(let status, let code, let message): return Self.error(status, code: code, message: message)
            case nil: break
            }
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

    private static func json(_ value: some Encodable) throws -> HTTPResponse {
        HTTPResponse(status: 200, body: try JSONEncoder().encode(value))
    }

    private static func error(_ status: Int, code: String, message: String) -> HTTPResponse {
        HTTPResponse(
            status: status, body: try! JSONEncoder().encode(ErrorBody(ErrorDetail(code: code, message: message))))
    }
}
