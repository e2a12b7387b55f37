import CompressNIO
import HTTPTypes
import Hummingbird

/// Inflates request bodies sent with `Content-Encoding: gzip`, never beyond the body limit, so a
/// small bomb cannot become a large body; any other encoding is 415 `unsupported_encoding`.
///
/// It runs behind ``AuthMiddleware``: a caller without a valid token, or from a throttled
/// address, is answered before a byte is inflated, so inflating is work done only for callers
/// the server knows.
struct RequestInflationMiddleware: RouterMiddleware {
    typealias Context = HavenRequestContext
    /// Largest inflated request body, in bytes.
    let maxBodyBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var request = request
        if let encoding = request.headers[.contentEncoding]?.lowercased().trimmingCharacters(in: .whitespaces),
            encoding != "identity"
        {
            guard encoding == "gzip" else {
                throw APIError(
                    .unsupportedMediaType, code: .unsupportedEncoding,
                    message: "Content-Encoding: only gzip is accepted")
            }
            request.body = RequestBody(buffer: try await inflate(&request))
        }
        return try await next(request, context)
    }

    private func inflate(_ request: inout Request) async throws -> ByteBuffer {
        var compressed: ByteBuffer
        do {
            compressed = try await request.collectBody(upTo: maxBodyBytes)
        } catch {
            throw APIError(
                .contentTooLarge, code: .tooLarge, message: "request body exceeds \(maxBodyBytes) bytes")
        }
        do {
            return try compressed.decompress(with: .gzip(), maxSize: maxBodyBytes)
        } catch let error as CompressNIOError where error == .bufferOverflow {
            throw APIError(
                .contentTooLarge, code: .tooLarge,
                message: "request body exceeds \(maxBodyBytes) bytes once inflated")
        } catch {
            throw APIError.badRequest(.invalidEncoding, "body: not valid gzip data")
        }
    }
}
