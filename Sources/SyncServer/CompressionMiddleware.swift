import CompressNIO
import HTTPTypes
import Hummingbird

/// gzip for answers: responses are deflated for clients that send `Accept-Encoding: gzip`.
///
/// Request bodies are inflated by ``RequestInflationMiddleware``, behind authentication.
struct CompressionMiddleware: RouterMiddleware {
    typealias Context = HavenRequestContext
    /// Responses smaller than this are sent as they are: gzip's header would outweigh the saving.
    var minimumResponseBytes = 512

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var response = try await next(request, context)
        // Media files go as they are: photos and voice notes are compressed already, and a
        // `Range` counts the file's own bytes.
        guard Self.accepts(request.headers[.acceptEncoding]), response.headers[.contentEncoding] == nil,
            response.headers[.contentType] != "application/octet-stream",
            let length = response.body.contentLength, length >= minimumResponseBytes
        else { return response }
        var plain = try await collect(response.body)
        let compressed = try plain.compress(with: .gzip())
        response.body = ResponseBody(byteBuffer: compressed)
        response.headers[.contentEncoding] = "gzip"
        response.headers[.vary] = "Accept-Encoding"
        response.headers[.contentLength] = String(compressed.readableBytes)
        return response
    }

    /// Whether an `Accept-Encoding` value allows gzip (and does not give it `q=0`).
    static func accepts(_ header: String?) -> Bool {
        ContentCoding.accepts("gzip", in: header, star: true)
    }

    /// The whole body of an in-memory response.
    private func collect(_ body: ResponseBody) async throws -> ByteBuffer {
        let collector = BufferCollector()
        try await body.write(collector)
        return collector.buffer
    }
}

/// A response writer that keeps what is written.
private final class BufferCollector: ResponseBodyWriter, @unchecked Sendable {
    var buffer = ByteBuffer()
    func write(_ buffer: ByteBuffer) async throws {
        var copy = buffer
        self.buffer.writeBuffer(&copy)
    }
    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
