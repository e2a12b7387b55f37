import Foundation
import HTTPTypes
import HavenCore
import Hummingbird

/// The size and shape limits of DESIGN §4, each checked as early as it can be:
///
/// 1. The declared `Content-Length` of every request, before a byte of the body is read
///    (this type is the middleware that does it): above ``ServerConfiguration/maxBodyBytes`` the
///    answer is 413 `too_large`.
/// 2. The body itself is collected up to the same limit, for bodies sent without a length.
/// 3. Before decoding, one pass over the bytes: invalid UTF-8 is 400 `invalid_json`, nesting
///    deeper than ``ServerConfiguration/maxNestingDepth`` is 400 `too_deep`.
/// 4. After decoding, each change on its own: encoded larger than
///    ``ServerConfiguration/maxRecordBytes``, that change alone is rejected `record_too_large`.
struct RequestLimits: RouterMiddleware {
    typealias Context = HavenRequestContext
    var maxBodyBytes: Int
    var maxNestingDepth: Int
    var maxRecordBytes: Int

    init(_ configuration: ServerConfiguration) {
        self.maxBodyBytes = configuration.maxBodyBytes
        self.maxNestingDepth = configuration.maxNestingDepth
        self.maxRecordBytes = configuration.maxRecordBytes
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        try checkDeclaredLength(of: request)
        return try await next(request, context)
    }

    /// Refuses a request whose `Content-Length` is unreadable (400) or above the body limit (413).
    func checkDeclaredLength(of request: Request) throws {
        guard let text = request.headers[.contentLength] else { return }
        guard !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw APIError.badRequest(
                .invalidHeader, "Content-Length: '\(text.prefix(40))' is not a single whole number of bytes")
        }
        // All digits: a number too large for Int is too large for the limit as well.
        // The answer goes out at once; Hummingbird then discards whatever of the body still comes,
        // so the connection stays usable for the client's next request.
        guard let length = Int(text), length <= maxBodyBytes else {
            throw APIError(
                .contentTooLarge, code: .tooLarge,
                message: "Content-Length: \(text.prefix(40)) bytes, at most \(maxBodyBytes)")
        }
    }

    /// Collects the body up to the limit: 413 `too_large` beyond it.
    func collectBody(of request: inout Request) async throws -> ByteBuffer {
        do {
            return try await request.collectBody(upTo: maxBodyBytes)
        } catch {
            throw APIError(.contentTooLarge, code: .tooLarge, message: "request body exceeds \(maxBodyBytes) bytes")
        }
    }

    /// Refuses a JSON body that is not UTF-8 or nests too deeply, before the decoder sees it.
    func checkJSON(_ buffer: ByteBuffer) throws {
        let problem = buffer.withUnsafeReadableBytes { JSONPreflight.problem(in: $0, maxDepth: maxNestingDepth) }
        switch problem {
        case nil:
            return
        case .invalidUTF8(let offset):
            throw APIError.badRequest(.invalidJSON, "body: invalid UTF-8 at byte \(offset)")
        case .tooDeep(let offset, let maxDepth):
            throw APIError.badRequest(
                .tooDeep, "body: arrays and objects nest deeper than \(maxDepth) levels at byte \(offset)")
        }
    }

    /// Splits a batch into the changes small enough to store and a rejection for each other one.
    ///
    /// - Returns: the admissible changes with their positions in the batch, and the rejections
    ///   with theirs.
    func partition(_ changes: [Change]) -> (admitted: [(Int, Change)], rejected: [(Int, PushResult)]) {
        var admitted: [(Int, Change)] = []
        var rejected: [(Int, PushResult)] = []
        for (index, change) in changes.enumerated() {
            // The length JSONEncoder would write, at a fraction of its cost.
            let size = (try? CompactJSON.encode(change).count) ?? Int.max
            if size <= maxRecordBytes {
                admitted.append((index, change))
            } else {
                let detail = ErrorDetail(
                    code: .recordTooLarge,
                    message: "change \(change.id.prefix(100)): record \(change.record.id.prefix(100)) is "
                        + (size == Int.max ? "not encodable" : "\(size) bytes") + ", at most \(maxRecordBytes)")
                rejected.append((index, PushResult(id: change.id, status: .rejected, error: detail)))
            }
        }
        return (admitted, rejected)
    }
}
