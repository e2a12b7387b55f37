import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

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

/// The real link: Foundation's URLSession over the system's libcurl.
///
/// `URLRequest.timeoutInterval` only limits the time between two packets (a trickling answer
/// never trips it), so each exchange also races a deadline of `request.timeout` seconds and is
/// cancelled when the deadline wins.
public struct URLSessionTransport: HTTPTransport {
    let session: URLSession

    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.httpCookieStorage = nil
        // No default `Accept-Language`: every byte counts in a poll (BENCHMARKS.md).
        configuration.httpAdditionalHeaders = [:]
        session = URLSession(configuration: configuration)
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await withThrowingTaskGroup(of: HTTPResponse.self) { group in
            group.addTask { try await exchange(request) }
            group.addTask {
                try await Task.sleep(for: .sleep(seconds: request.timeout))
                throw URLError(.timedOut)
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    private func exchange(_ request: HTTPRequest) async throws -> HTTPResponse {
        var urlRequest = URLRequest(url: request.url, timeoutInterval: request.timeout)
        urlRequest.httpMethod = request.method
        urlRequest.httpBody = request.body
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await session.data(for: urlRequest)
        let http = response as? HTTPURLResponse
        var headers: [String: String] = [:]
        for (name, value) in http?.allHeaderFields ?? [:] { headers["\(name)"] = "\(value)" }
        return HTTPResponse(status: http?.statusCode ?? 0, headers: headers, body: data)
    }
}
