import Foundation
import HavenCore

/// The sync protocol's two calls over a transport, with errors decoded from the JSON shape.
public struct ServerAPI: Sendable {
    let server: URL
    let token: String
    let transport: any HTTPTransport
    var timeout: Double = 60

    public init(server: URL, token: String, transport: any HTTPTransport = URLSessionTransport()) {
        self.server = server
        self.token = token
        self.transport = transport
    }

    /// `POST /v1/changes`.
    public func push(_ changes: [Change]) async throws -> PushResponse {
        let body = try JSONEncoder().encode(PushRequest(changes: changes))
        return try await send("POST", url: server.appendingPathComponent("v1/changes"), body: body)
    }

    /// `GET /v1/changes?since=…&limit=…`.
    public func pull(since cursor: SyncCursor?, limit: Int) async throws -> PullResponse {
        var components = URLComponents(url: server.appendingPathComponent("v1/changes"), resolvingAgainstBaseURL: false)!
        components.queryItems = [URLQueryItem(name: "limit", value: String(limit))]
        if let cursor { components.queryItems!.append(URLQueryItem(name: "since", value: cursor.description)) }
        return try await send("GET", url: components.url!, body: nil)
    }

    private func send<Answer: Decodable>(_ method: String, url: URL, body: Data?) async throws -> Answer {
        var headers = ["Authorization": "Bearer \(token)", "Accept": "application/json"]
        if body != nil { headers["Content-Type"] = "application/json" }
        let response = try await transport.send(
            HTTPRequest(method: method, url: url, headers: headers, body: body, timeout: timeout))
        guard (200..<300).contains(response.status) else {
            let detail = (try? JSONDecoder().decode(ErrorBody.self, from: response.body))?.error
                ?? ErrorDetail(code: "http_\(response.status)", message: "unexpected answer")
            throw ServerError(status: response.status, detail: detail)
        }
        do {
            return try JSONDecoder().decode(Answer.self, from: response.body)
        } catch {
            throw ClientError("the server's answer could not be read: \(describe(error))")
        }
    }
}
