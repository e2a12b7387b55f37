import Foundation

/// One HTTP exchange: the seam where tests inject faults and a real link plugs in.
public protocol HTTPTransport: Sendable {
    /// Sends `request` and returns the answer, whatever its status; throws when no answer came
    /// (the link dropped, the request timed out).
    func send(_ request: HTTPRequest) async throws -> HTTPResponse

    /// Sends `request` and hands a 2xx answer's body to `receive` as it arrives, inflated, piece
    /// by piece, then returns the answer with an empty body; an answer of any other status is
    /// returned whole, as ``send(_:)`` returns it. Nothing bounds the whole body or the whole
    /// exchange: the caller bounds what it keeps, and how long it waits for the next piece.
    func stream(_ request: HTTPRequest, receive: (HTTPBodyPiece) async throws -> Void) async throws -> HTTPResponse
}

extension HTTPTransport {
    /// A transport that does not stream says so: the sync engine then pulls page by page, each
    /// answer held to the bounds of ``send(_:)``.
    public func stream(_ request: HTTPRequest, receive: (HTTPBodyPiece) async throws -> Void) async throws
        -> HTTPResponse
    {
        throw StreamingUnsupported()
    }
}

/// Thrown by a transport that cannot hand a body over as it arrives.
public struct StreamingUnsupported: Error, Sendable {
    /// The error a transport that cannot stream throws.
    public init() {}
}

/// Part of a streamed body: its bytes inflated, and how many bytes of the wire they took.
public struct HTTPBodyPiece: Sendable {
    /// The bytes, already inflated if the body came gzipped.
    public var bytes: Data
    /// The bytes on the wire this piece accounts for (0 for the later pieces of one wire read).
    public var wireBytes: Int

    /// A piece of `bytes`, inflated, that took `wireBytes` on the wire.
    public init(bytes: Data, wireBytes: Int) {
        self.bytes = bytes
        self.wireBytes = wireBytes
    }
}

/// A request as the sync protocol makes it: small, in memory, with a deadline.
public struct HTTPRequest: Sendable {
    /// The HTTP method, such as `GET`.
    public var method: String
    /// The full URL, query included.
    public var url: URL
    /// Header fields by name.
    public var headers: [String: String]
    /// The body; nil for none.
    public var body: Data?
    /// Seconds before the whole exchange is abandoned.
    public var timeout: Double

    /// A request; `timeout` bounds the whole exchange, in seconds.
    public init(method: String, url: URL, headers: [String: String] = [:], body: Data? = nil, timeout: Double) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// An answer of any status, with its headers and its (inflated) body.
public struct HTTPResponse: Sendable {
    /// The HTTP status code.
    public var status: Int
    /// Header fields, names in lowercase.
    public var headers: [String: String]
    /// The body, already inflated if it came gzipped.
    public var body: Data

    /// An answer; header names are stored in lowercase.
    public init(status: Int, headers: [String: String] = [:], body: Data) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }) { _, last in last }
        self.body = body
    }

    /// The value of a header field, by case-insensitive name.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}
