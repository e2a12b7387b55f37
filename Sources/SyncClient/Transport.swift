import Foundation

/// One HTTP exchange: the seam where tests inject faults and a real link plugs in.
public protocol HTTPTransport: Sendable {
    /// Sends `request` and returns the answer, whatever its status; throws when no answer came
    /// (the link dropped, the request timed out).
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}

/// A request as the sync protocol makes it: small, in memory, with a deadline.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: URL
    public var headers: [String: String]
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
