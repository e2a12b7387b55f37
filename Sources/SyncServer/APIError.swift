import Foundation
import HavenCore
import Hummingbird

/// An error answered to the client as `{"error":{"code","message"}}` with its HTTP status.
public struct APIError: HTTPResponseError, Sendable {
    /// The HTTP status answered.
    public let status: HTTPResponse.Status
    /// The error's code and message, answered as the JSON body.
    public let detail: ErrorDetail
    /// Further header fields of the answer, such as `Retry-After`.
    public var headers: HTTPFields = [:]

    /// An error answered with `status`, `code` and `message` (which names the bad input).
    public init(_ status: HTTPResponse.Status, code: ErrorCode, message: String) {
        self.status = status
        self.detail = ErrorDetail(code: code, message: message)
    }

    /// The answer: the JSON error body with ``status`` and ``headers``.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = jsonResponse(ErrorBody(detail), status: status)
        response.headers.append(contentsOf: headers)
        return response
    }

    static func badRequest(_ code: ErrorCode, _ message: String) -> APIError { APIError(.badRequest, code: code, message: message) }
    static let unauthorized = APIError(
        .unauthorized, code: .unauthorized, message: "missing, unknown, expired or revoked token in Authorization: Bearer")
    static func forbidden(_ message: String) -> APIError { APIError(.forbidden, code: .forbidden, message: message) }
    /// 410: the client must download everything again.
    static func gone(_ expired: CursorExpired) -> APIError { APIError(.gone, code: .cursorExpired, message: "\(expired)") }
}

/// Encodes `value` as a JSON response.
func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
    Response(
        status: status, headers: [.contentType: "application/json"],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: jsonBytes(value))))
}

/// `value` as the JSON of a response body; an `internal` error body if it cannot be encoded.
///
/// Keys sorted: `JSONEncoder` otherwise writes an object's keys in its dictionary's order, which
/// differs from one answer to the next, and two answers that must be indistinguishable (a media
/// file hidden or missing) would differ in their bytes.
func jsonBytes(_ value: some Encodable) -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
    return (try? encoder.encode(value)) ?? Data(#"{"error":{"code":"internal","message":"encoding failed"}}"#.utf8)
}
