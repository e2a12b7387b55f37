import Foundation
import HTTPTypes
import HavenCore
import Hummingbird
import NIOCore

/// The media routes (issue 17), in the shape of tus 1.0: open an upload, ask its offset, append
/// from it; download with `Range`.
///
/// - `POST /v1/media/uploads` opens the caller's upload of a file named by its hash, or answers
///   where it stands (``MediaUpload``): a client resumes from `offset`.
/// - `HEAD /v1/media/uploads/{id}` answers the offset in `Upload-Offset`.
/// - `PATCH /v1/media/uploads/{id}` appends its body at `Upload-Offset`; bytes are stored as they
///   arrive, so a request cut off keeps what came. The request that brings the upload to its
///   size has the hash checked, and the blob becomes complete.
/// - `GET /v1/media/{id}` sends the blob, or the one range `Range` asks for (206).
struct MediaController {
    let library: MediaLibrary
    let clock: HybridLogicalClock.WallClock

    /// Bytes gathered from a request body before they are stored as one chunk: what a cut
    /// connection may lose is what the link held in flight, not more than this.
    static let chunkBytes = 64 << 10

    func addRoutes(to group: RouterGroup<HavenRequestContext>) {
        group.post("media/uploads", use: open)
        group.head("media/uploads/:id", use: offset)
        group.patch("media/uploads/:id", use: append)
        group.get("media/:id", use: download)
        group.refuseOtherMethods(on: "media/uploads", allowing: [.post])
        group.refuseOtherMethods(on: "media/uploads/:id", allowing: [.head, .patch])
        group.refuseOtherMethods(on: "media/:id", allowing: [.get])
    }

    func open(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let caller = try writer(context)
        var request = request
        let buffer = try await request.collectBody(upTo: 4096)
        let body: MediaUploadRequest
        do {
            body = try JSONDecoder().decode(MediaUploadRequest.self, from: Data(buffer.readableBytesView))
        } catch {
            throw APIError.badRequest(.invalidJSON, "body: must be {\"id\": SHA-256 hex, \"size\": bytes}")
        }
        let upload = try await library.open(body, by: caller, now: clock())
        var response = jsonResponse(upload, status: upload.offset == 0 && !upload.complete ? .created : .ok)
        response.headers[.location] = "/v1/media/uploads/\(upload.id)"
        response.headers[MediaHeaders.uploadOffset] = String(upload.offset)
        return response
    }

    func offset(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let caller = try writer(context)
        let id = context.parameters.get("id") ?? ""
        guard let upload = try await library.upload(id, by: caller) else { throw MediaLibrary.noUpload(String(id.prefix(64))) }
        return Response(
            status: .ok,
            headers: [
                MediaHeaders.uploadOffset: String(upload.offset), MediaHeaders.uploadLength: String(upload.size),
                .cacheControl: "no-store",
            ])
    }

    func append(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let caller = try writer(context)
        let id = context.parameters.get("id") ?? ""
        guard MediaReference.isBlobID(id) else { throw MediaLibrary.noUpload(String(id.prefix(64))) }
        guard request.headers[.contentType]?.lowercased() == "application/offset+octet-stream" else {
            throw APIError(
                .unsupportedMediaType, code: .unsupportedMediaType,
                message: "Content-Type must be application/offset+octet-stream for an upload's bytes")
        }
        guard let text = request.headers[MediaHeaders.uploadOffset], let start = Int64(text), start >= 0 else {
            throw APIError.badRequest(.invalidHeader, "Upload-Offset: must be the whole number of bytes the server holds")
        }
        var position = start
        var pending: [UInt8] = []
        var cutOff: (any Error)?
        do {
            for try await piece in request.body {
                pending += piece.readableBytesView
                if pending.count >= Self.chunkBytes {
                    position = try await library.append(pending, to: id, at: position, by: caller)
                    pending = []
                }
            }
        } catch let error as APIError {
            throw error
        } catch {
            // The connection failed mid-body: keep what came, so the client resumes after it.
            cutOff = error
        }
        position = try await library.append(pending, to: id, at: position, by: caller)
        if let cutOff { throw cutOff }
        guard let upload = try await library.upload(id, by: caller) else { throw MediaLibrary.noUpload(id) }
        var answer = upload
        if !upload.complete, upload.offset == upload.size {
            try await library.finish(id, size: upload.size, by: caller, now: clock())
            answer.complete = true
        }
        var response = jsonResponse(answer)
        response.headers[MediaHeaders.uploadOffset] = String(answer.offset)
        return response
    }

    func download(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = context.parameters.get("id") ?? ""
        guard let size = try await library.readableSize(of: id, by: caller) else {
            // The same answer whether the blob is missing or hidden: its existence does not leak.
            throw APIError(.notFound, code: .mediaNotFound, message: "no media file \(id.prefix(64)) on this server")
        }
        var headers: HTTPFields = [
            .contentType: "application/octet-stream", .acceptRanges: "bytes", .cacheControl: "private, no-store",
        ]
        var status = HTTPResponse.Status.ok
        var range = 0..<size
        if let header = request.headers[.range] {
            switch ByteRange(header, size: size) {
            case .satisfiable(let asked):
                range = asked
                status = .partialContent
                headers[.contentRange] = "bytes \(asked.lowerBound)-\(asked.upperBound - 1)/\(size)"
            case .unsatisfiable:
                var error = APIError(
                    .rangeNotSatisfiable, code: .invalidRange,
                    message: "Range: \(header.prefix(80)) asks for bytes past the end of the file's \(size)")
                error.headers[.contentRange] = "bytes */\(size)"
                throw error
            case .ignored:
                break
            }
        }
        let (library, sent) = (self.library, range)
        let piece = Int64(ProtocolLimits.mediaPieceBytes)
        return Response(
            status: status, headers: headers,
            body: ResponseBody(contentLength: Int(sent.count)) { writer in
                var position = sent.lowerBound
                while position < sent.upperBound {
                    let end = min(sent.upperBound, position + piece)
                    let bytes = try await library.bytes(of: id, from: position, to: end)
                    guard bytes.count == Int(end - position) else { throw MediaStoreGap(blob: id) }
                    try await writer.write(ByteBuffer(bytes: bytes))
                    position = end
                }
                try await writer.finish(nil)
            })
    }

    /// The caller, when its role may upload.
    private func writer(_ context: HavenRequestContext) throws -> Caller {
        let caller = try context.requireCaller()
        guard caller.role.canWrite else {
            throw APIError.forbidden("a \(caller.role.rawValue) token cannot upload media")
        }
        return caller
    }
}

/// The headers of resumable uploads (tus 1.0).
enum MediaHeaders {
    static let uploadOffset = HTTPField.Name("Upload-Offset")!
    static let uploadLength = HTTPField.Name("Upload-Length")!
}

/// A stored blob missing some of its bytes: the store is damaged.
struct MediaStoreGap: Error, CustomStringConvertible {
    var blob: String
    var description: String { "media file \(blob) is missing bytes in the database" }
}
