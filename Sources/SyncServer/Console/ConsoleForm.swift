import Foundation
import Hummingbird

/// A posted form, name to value (a repeated name keeps its last value): URL-encoded, or
/// `multipart/form-data` when it sends a file.
struct ConsoleForm: Sendable {
    /// The hidden field that carries the session's form key.
    static let formKeyField = "form_key"

    let values: [String: String]
    /// The files a multipart form sent, by field name.
    var files: [String: Data] = [:]

    init(values: [String: String]) { self.values = values }

    /// Reads and decodes the body of `request`, at most `limit` bytes.
    static func read(_ request: Request, limit: Int) async throws -> ConsoleForm {
        let body = try await request.body.collect(upTo: limit)
        let type = request.headers[.contentType] ?? ""
        if type.lowercased().hasPrefix("multipart/form-data") {
            guard let boundary = MultipartBody.boundary(in: type) else { return ConsoleForm(values: [:]) }
            let parts = MultipartBody.parts(of: Data(body.readableBytesView), boundary: boundary)
            var form = ConsoleForm(
                values: parts.filter { $0.filename == nil }.reduce(into: [:]) { $0[$1.name] = String(decoding: $1.content, as: UTF8.self) })
            form.files = parts.filter { $0.filename != nil }.reduce(into: [:]) { $0[$1.name] = $1.content }
            return form
        }
        return ConsoleForm(encoded: String(buffer: body))
    }

    /// Decodes `name=value&…`, `+` as a space and percent escapes as UTF-8.
    init(encoded: String) {
        var values: [String: String] = [:]
        for pair in encoded.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String? {
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            }
            guard let name = parts.first.flatMap(decode) else { continue }
            values[name] = parts.count > 1 ? decode(parts[1]) ?? "" : ""
        }
        self.values = values
    }

    subscript(_ name: String) -> String? { values[name] }

    /// The value of `name`, trimmed, or "" when absent.
    func text(_ name: String) -> String { values[name]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "" }
}
