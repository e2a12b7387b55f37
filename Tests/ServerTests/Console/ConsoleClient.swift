import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// A browser's part in the console tests: its session cookie, and the form key of the last page
/// it read.
struct ConsoleBrowser {
    let client: any TestClientProtocol
    /// `haven_session=…`, once signed in.
    var cookie: String?
    var formKey = ""

    init(_ client: any TestClientProtocol) { self.client = client }

    /// A browser signed in with `token`, on the form of a new resource.
    static func atNewResource(_ client: any TestClientProtocol, token: String) async throws -> ConsoleBrowser {
        var browser = ConsoleBrowser(client)
        try await browser.signIn(token)
        _ = try await browser.get("/console/records/new?kind=resource")
        return browser
    }

    /// Signs in with `token`; returns the sign-in answer.
    @discardableResult
    mutating func signIn(_ token: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        let response = try await post("/console/signin", ["token": token], headers: headers, formKey: false)
        if let setCookie = response.headers[.setCookie], setCookie.hasPrefix("haven_session=") {
            cookie = String(setCookie.prefix { $0 != ";" })
        }
        return response
    }

    /// A GET with the session cookie; remembers the page's form key.
    mutating func get(_ uri: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        if let cookie { headers[.cookie] = cookie }
        let response = try await client.execute(uri: uri, method: .get, headers: headers)
        if let key = Self.formKey(in: String(buffer: response.body)) { formKey = key }
        return response
    }

    /// A form post with the session cookie and, unless told otherwise, the last form key.
    func post(_ uri: String, _ fields: [String: String], headers: HTTPFields = [:], formKey: Bool = true)
        async throws -> TestResponse
    {
        var fields = fields
        if formKey, fields["form_key"] == nil { fields["form_key"] = self.formKey }
        var headers = headers
        if let cookie { headers[.cookie] = cookie }
        headers[.contentType] = "application/x-www-form-urlencoded"
        let body = fields.map { "\(Self.encode($0.key))=\(Self.encode($0.value))" }.joined(separator: "&")
        return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    /// A `multipart/form-data` post, as a form with a file input sends it, with the session
    /// cookie and the last form key.
    func postFile(_ uri: String, _ fields: [String: String], file: (name: String, filename: String, content: Data))
        async throws -> TestResponse
    {
        var fields = fields
        if fields["form_key"] == nil { fields["form_key"] = formKey }
        let boundary = "----haven\(UInt32.random(in: 0...UInt32.max))"
        var body = Data()
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
            body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        body += Data(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.name)\"; filename=\"\(file.filename)\"\r\nContent-Type: application/json\r\n\r\n".utf8)
        body += file.content + Data("\r\n--\(boundary)--\r\n".utf8)
        var headers: HTTPFields = [.contentType: "multipart/form-data; boundary=\(boundary)"]
        if let cookie { headers[.cookie] = cookie }
        return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(bytes: body))
    }

    /// The value of the hidden input `name` in `page`.
    static func hidden(_ name: String, in page: String) -> String? {
        guard let range = page.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(page[range.upperBound...].prefix { $0 != "\"" })
    }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    static func formKey(in page: String) -> String? {
        guard let range = page.range(of: "name=\"form_key\" value=\"") else { return nil }
        return String(page[range.upperBound...].prefix { $0 != "\"" })
    }
}
