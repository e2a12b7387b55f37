import AsyncHTTPClient
import Foundation
import HavenCore

/// The media calls (issue 17): open or resume an upload, append a piece, download a range.
extension ServerAPI {
    /// `POST /v1/media/uploads`: opens this token's upload of a file, or answers where it stands.
    public func openUpload(_ id: String, size: Int64) async throws -> MediaUpload {
        try await send(
            "POST", url: server.appendingPathComponent("v1/media/uploads"), headers: ["Content-Type": "application/json"],
            body: try JSONEncoder().encode(MediaUploadRequest(id: id, size: size)))
    }

    /// `PATCH /v1/media/uploads/{id}`: appends `bytes` at `offset`.
    ///
    /// - Throws: ``ServerError`` 409 `offset_mismatch` when the server holds another offset.
    public func appendUpload(_ id: String, at offset: Int64, _ bytes: Data) async throws -> MediaUpload {
        try await send(
            "PATCH", url: server.appendingPathComponent("v1/media/uploads/\(id)"),
            headers: ["Content-Type": "application/offset+octet-stream", "Upload-Offset": String(offset)], body: bytes)
    }

    /// `GET /v1/media/{id}` with `Range: bytes=start-(end-1)`: the bytes of the range.
    ///
    /// - Throws: ``ProtocolViolation`` when the server answers other bytes than those asked for.
    public func download(_ id: String, from start: Int64, to end: Int64) async throws -> Data {
        let response = try await transport.send(
            HTTPRequest(
                method: "GET", url: server.appendingPathComponent("v1/media/\(id)"),
                headers: Self.headers(["Range": "bytes=\(start)-\(end - 1)"], token: token), timeout: timeout))
        traffic.count(sent: 0, received: Self.wireBytes(of: response))
        try Self.check(response)
        let expected = Int(end - start)
        // A server that ignores the range answers 200 with the whole file: take the range from it.
        if response.status == 200, start == 0, response.body.count >= expected {
            return response.body.prefix(expected)
        }
        guard response.status == 206, response.body.count == expected,
            response.header("Content-Range")?.hasPrefix("bytes \(start)-\(end - 1)/") == true
        else {
            throw UnreadableAnswer(reason: "media file \(id): not the \(expected) bytes asked for from \(start)")
        }
        return response.body
    }

    /// `GET /v1/media/{id}` with `Range: bytes=start-`: the bytes from `start` handed to `receive`
    /// as they arrive, so that a cut keeps what came. At most `end - start` bytes are taken.
    ///
    /// - Throws: ``StreamingUnsupported`` from a transport that cannot stream; a read timeout
    ///   when no byte came for ``timeout`` seconds; ``ServerError`` for an answer other than 2xx.
    public func downloadStream(
        _ id: String, from start: Int64, to end: Int64, receive: @escaping @Sendable (Data) async throws -> Void
    ) async throws {
        let request = HTTPRequest(
            method: "GET", url: server.appendingPathComponent("v1/media/\(id)"),
            headers: Self.headers(["Range": "bytes=\(start)-\(end - 1)"], token: token), timeout: timeout)
        let heard = LastHeard()
        let expected = end - start
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var taken: Int64 = 0
                let response = try await transport.stream(request) { piece in
                    heard.now()
                    traffic.count(sent: 0, received: piece.wireBytes)
                    taken += Int64(piece.bytes.count)
                    guard taken <= expected else {
                        throw UnreadableAnswer(reason: "media file \(id): more bytes than the \(expected) asked for")
                    }
                    try await receive(piece.bytes)
                }
                traffic.count(sent: 0, received: Self.wireBytes(of: response))
                try Self.check(response)
                // A transport that hands over a 206 whole, body and all.
                if taken == 0, !response.body.isEmpty {
                    guard response.body.count <= expected else {
                        throw UnreadableAnswer(reason: "media file \(id): more bytes than the \(expected) asked for")
                    }
                    try await receive(response.body)
                }
            }
            // Nothing heard for `timeout` seconds: the link is gone, whatever TCP believes.
            group.addTask { [timeout] in
                let limit = Duration.milliseconds(Int64(timeout * 1000))
                while true {
                    let deadline = heard.instant + limit
                    guard deadline > .now else { throw HTTPClientError.readTimeout }
                    try await Task.sleep(until: deadline)
                }
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }
}
