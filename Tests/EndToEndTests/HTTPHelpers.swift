import CompressNIO
import Foundation
import HavenCore
import NIOCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Raw HTTP against a live server, for tests of the protocol itself.
struct LiveClient {
    let server: String
    let token: String
    let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 30
        return URLSession(configuration: configuration)
    }()

    struct Answer {
        var status: Int
        var headers: [String: String]
        /// The body, inflated if it arrived compressed.
        var body: Data
    }

    func send(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> Answer {
        var request = URLRequest(url: URL(string: server + path)!)
        request.httpMethod = method
        request.httpBody = body
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields["\(name)".lowercased()] = "\(value)" }
        let isGzip = data.starts(with: [0x1f, 0x8b])
        return Answer(status: http.statusCode, headers: fields, body: isGzip ? try gunzip(data) : data)
    }

    func pull(since cursor: SyncCursor?, wait: Double? = nil) async throws -> PullResponse {
        var path = "/v1/changes?limit=100"
        if let cursor { path += "&since=\(cursor)" }
        if let wait { path += "&wait=\(wait)" }
        let answer = try await send("GET", path)
        return try JSONDecoder().decode(PullResponse.self, from: answer.body)
    }

    func push(_ changes: [Change], gzip: Bool = false) async throws -> Answer {
        var body = try JSONEncoder().encode(PushRequest(changes: changes))
        var headers = ["Content-Type": "application/json"]
        if gzip {
            body = try gzipped(body)
            headers["Content-Encoding"] = "gzip"
        }
        return try await send("POST", "/v1/changes", body: body, headers: headers)
    }
}

extension RawConnection {
    /// Sends `GET /v1/changes?since=cursor&wait=seconds` to the server on `port` and returns
    /// once the server has read the request (``waitUntilServerHasRead(within:)``): the poll is in
    /// flight, not still in a socket.
    static func longPoll(port: Int, token: String, since cursor: SyncCursor, wait seconds: Int) throws -> RawConnection {
        let connection = try RawConnection(port: port, timeout: seconds + 60)
        let head =
            "GET /v1/changes?limit=100&since=\(cursor)&wait=\(seconds) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
            + "Authorization: Bearer \(token)\r\n\r\n"
        try connection.write(Data(head.utf8))
        try connection.waitUntilServerHasRead()
        return connection
    }

    /// Reads the answer to a pull: a page, or an error if the status is not 200.
    func readPage() throws -> PullResponse {
        let answer = try readResponse()
        guard answer.status == 200 else {
            throw ClientFailure("pull answered \(answer.status): \(String(decoding: answer.body.prefix(300), as: UTF8.self))")
        }
        return try JSONDecoder().decode(PullResponse.self, from: answer.body)
    }
}

func gzipped(_ data: Data) throws -> Data {
    var buffer = ByteBuffer(bytes: data)
    let compressed = try buffer.compress(with: .gzip())
    return Data(compressed.readableBytesView)
}

func gunzip(_ data: Data) throws -> Data {
    var buffer = ByteBuffer(bytes: data)
    return Data(try buffer.decompress(with: .gzip()).readableBytesView)
}

/// A new story change stamped now by a fresh replica.
func storyChange(title: String, replica: String = "e2e\(Int.random(in: 1000...9999))") -> Change {
    var clock = HybridLogicalClock(replica: ReplicaID(replica)!)
    let stamp = clock.now()
    let id = RecordID.random()
    let fields: [String: JSONValue] = ["title": .string(title), "body": "Body.", "language": "en", "status": "published"]
    return Change(
        id: "\(replica)-\(id.prefix(8))", base: nil,
        record: RecordState(id: id, kind: .story, fields: fields.mapValues { Register($0, stamp: stamp) }))
}
