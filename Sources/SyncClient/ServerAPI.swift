import Foundation
import HavenCore
import HavenTrust

/// The sync protocol's two calls over a transport, with errors decoded from the JSON shape.
///
/// Every request asks for a gzipped answer (the transport inflates it); push bodies larger than
/// ``compressionThreshold`` are sent gzipped. The bytes that cross the wire are counted in
/// ``traffic``.
public struct ServerAPI: Sendable {
    let server: URL
    let token: String
    let transport: any HTTPTransport
    /// Seconds before a request is abandoned; a long-poll gets its `wait` on top.
    public var timeout: Double = 30
    /// Push bodies of more bytes than this are sent gzipped.
    public var compressionThreshold = 1024
    /// Bytes sent and received so far, bodies only.
    public let traffic = TrafficMeter()
    /// Called with each pulled page as it arrives, once checked and before the replica applies
    /// it: how an app shows changes while a sync is under way.
    ///
    /// For example:
    /// ```swift
    /// api.pageReceived = { page in for change in page.changes { print(change.id) } }
    /// ```
    public var pageReceived: (@Sendable (PullResponse) -> Void)?

    /// An API for `server` with `token`, over ``HTTPClientTransport`` unless a test gives another transport.
    public init(server: URL, token: String, transport: any HTTPTransport = HTTPClientTransport()) {
        self.server = server
        self.token = token
        self.transport = ProtocolNegotiation(over: transport)
    }

    /// An answer with a 2xx status whose body is not the expected JSON.
    public struct UnreadableAnswer: Error, Sendable, CustomStringConvertible {
        /// What was wrong with the body (a path, never its values).
        public var reason: String
        /// What could not be read, in the person's language.
        public var description: String {
            Words("the server's answer could not be read: \(reason)", korean: "서버의 답을 읽을 수 없습니다: \(reason)").text
        }
    }

    /// `POST /v1/changes`.
    public func push(_ changes: [Change]) async throws -> PushResponse {
        try await push(body: try JSONEncoder().encode(PushRequest(changes: changes)))
    }

    /// `POST /v1/changes` with the outbox's stored JSON as it is: nothing decoded or encoded again.
    public func push(_ batch: Replica.PendingBatch) async throws -> PushResponse {
        try await push(try pushBody(batch.requestBody))
    }

    private func push(body: Data) async throws -> PushResponse {
        try await push(try pushBody(body))
    }

    /// A push's body as it goes on the wire: gzipped when large. Made ahead of time by a push
    /// that prepares its next batch while the server takes the one before (SyncEngine).
    package struct PushBody: Sendable {
        let bytes: Data
        let gzipped: Bool
    }

    package func pushBody(_ body: Data) throws -> PushBody {
        body.count > compressionThreshold ? PushBody(bytes: try Gzip.compress(body), gzipped: true) : PushBody(bytes: body, gzipped: false)
    }

    package func push(_ body: PushBody) async throws -> PushResponse {
        var headers = ["Content-Type": "application/json"]
        if body.gzipped { headers["Content-Encoding"] = "gzip" }
        return try await send("POST", url: server.appendingPathComponent("v1/changes"), headers: headers, body: body.bytes)
    }

    /// `GET /v1/changes?since=…&limit=…[&wait=…]`: with `wait`, the server holds an empty answer
    /// up to that many seconds for changes to arrive.
    public func pull(since cursor: SyncCursor?, limit: Int, wait: Double = 0) async throws -> PullResponse {
        var components = URLComponents(
            url: server.appendingPathComponent("v1/changes"), resolvingAgainstBaseURL: false)!
        var query = [URLQueryItem(name: "limit", value: String(limit))]
        if let cursor { query.append(URLQueryItem(name: "since", value: cursor.description)) }
        // Held to a day: the server refuses more than its own cap anyway, and no Double traps here.
        if wait > 0 { query.append(URLQueryItem(name: "wait", value: String(Int(min(wait, 86_400).rounded(.up))))) }
        components.queryItems = query
        let page: PullResponse = try await send("GET", url: components.url!, headers: [:], body: nil, extraTime: wait)
        try page.validate()
        pageReceived?(page)
        return page
    }

    /// `GET /v1/records/{id}/history` (editors and admins).
    public func history(of id: String) async throws -> RecordHistory {
        try await send("GET", url: server.appendingPathComponent("v1/records/\(id)/history"), headers: [:], body: nil)
    }

    /// `GET /v1/publisher`: the publisher's signing keys, oldest first, each endorsed by the one before.
    public func publisher() async throws -> PublisherKeys {
        try await send("GET", url: server.appendingPathComponent("v1/publisher"), headers: [:], body: nil)
    }

    /// `GET /v1/me`: the token's name and role and the server's limits, checked: a name a
    /// person can read, limits that are numbers a client can hold (`Account/checked()`).
    public func me() async throws -> Account {
        let account: Account = try await send("GET", url: server.appendingPathComponent("v1/me"), headers: [:], body: nil)
        return try account.checked()
    }

    func send<Answer: Decodable>(
        _ method: String, url: URL, headers: [String: String], body: Data?, extraTime: Double = 0
    ) async throws -> Answer {
        let response = try await transport.send(
            HTTPRequest(method: method, url: url, headers: Self.headers(headers, token: token), body: body, timeout: timeout + extraTime))
        traffic.count(sent: body?.count ?? 0, received: Self.wireBytes(of: response))
        traffic.heard(response)
        try Self.check(response)
        do {
            if let readable = Answer.self as? any JSONReadable.Type {
                return try JSONReader.decode(readable, from: response.body) as! Answer
            }
            return try JSONDecoder().decode(Answer.self, from: response.body)
        } catch {
            throw UnreadableAnswer(reason: describe(error))
        }
    }

    /// `headers` with what every request carries: the token, the protocol version
    /// (``ProtocolVersion``, so that a server that no longer speaks it says `upgrade_required`
    /// instead of misreading it), gzip unless `headers` names the codings. Only what the server reads, and a short
    /// User-Agent instead of libcurl's: a poll with nothing new stays under 500 bytes both ways
    /// (BENCHMARKS.md).
    static func headers(_ headers: [String: String], token: String) -> [String: String] {
        var headers = headers
        headers["Authorization"] = "Bearer \(token)"
        headers["Accept-Encoding"] = headers["Accept-Encoding"] ?? "gzip"
        headers["User-Agent"] = "haven"
        headers[ProtocolVersion.headerName] = String(ProtocolVersion.current)
        return headers
    }

    /// The bytes `response`'s body took on the wire: its Content-Length (compressed, when it
    /// was); without one, the inflated size is the best guess. The header is the server's word:
    /// held to what gzip could have made of the body, so that an absurd one cannot overflow the counts.
    static func wireBytes(of response: HTTPResponse) -> Int {
        response.header("Content-Length").flatMap { Int($0) }
            .map { min(max(0, $0), response.body.count + response.body.count / 100 + 1_024) } ?? response.body.count
    }

    /// Throws the ``ServerError`` an answer other than 2xx stands for.
    static func check(_ response: HTTPResponse) throws {
        guard !(200..<300).contains(response.status) else { return }
        let body = try? JSONDecoder().decode(ErrorBody.self, from: response.body)
        var error = ServerError(
            status: response.status,
            detail: body?.error
                ?? ErrorDetail(code: ErrorCode(rawValue: "http_\(response.status)"), message: "unexpected answer"),
            retryAfter: ServerError.retryAfter(response.header("Retry-After")))
        error.isHavenError = body != nil
        throw error
    }
}
