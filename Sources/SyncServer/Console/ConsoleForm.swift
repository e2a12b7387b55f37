import Foundation
import Hummingbird

/// A posted form (`application/x-www-form-urlencoded`), name to value; a repeated name keeps
/// its last value.
struct ConsoleForm: Sendable {
    /// The hidden field that carries the session's form key.
    static let formKeyField = "form_key"

    let values: [String: String]

    init(values: [String: String]) { self.values = values }

    /// Reads and decodes the body of `request`, at most `limit` bytes.
    static func read(_ request: Request, limit: Int) async throws -> ConsoleForm {
        let body = try await request.body.collect(upTo: limit)
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
