import Foundation

/// The parts of a `multipart/form-data` body (RFC 7578): what a browser sends for a form with a
/// file input. Only what a form sends is read: each part's name, its file name if any, and its
/// bytes; a part without a name is skipped.
enum MultipartBody {
    struct Part: Sendable {
        var name: String
        var filename: String?
        var content: Data
    }

    /// The `boundary` parameter of a `Content-Type` value, unquoted.
    static func boundary(in contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            let value = pair[1].hasPrefix("\"") && pair[1].hasSuffix("\"") && pair[1].count >= 2
                ? String(pair[1].dropFirst().dropLast()) : pair[1]
            return value.isEmpty || value.count > 70 ? nil : value
        }
        return nil
    }

    /// The parts of `body` between `--boundary` lines, up to the closing `--boundary--`.
    static func parts(of body: Data, boundary: String) -> [Part] {
        let delimiter = Data("--\(boundary)".utf8)
        let headerEnd = Data("\r\n\r\n".utf8)
        var parts: [Part] = []
        guard var cursor = body.range(of: delimiter)?.upperBound else { return [] }
        // Each part runs from the line after a delimiter to the CRLF before the next one.
        while let next = body.range(of: Data("\r\n".utf8) + delimiter, in: cursor..<body.endIndex) {
            let section = body[cursor..<next.lowerBound]
            cursor = next.upperBound
            guard section.starts(with: Data("\r\n".utf8)), let split = section.range(of: headerEnd) else { continue }
            let headers = String(decoding: section[section.startIndex + 2..<split.lowerBound], as: UTF8.self)
            guard let disposition = headers.split(separator: "\r\n").first(where: {
                $0.lowercased().hasPrefix("content-disposition:")
            }), let name = parameter("name", in: disposition) else { continue }
            parts.append(Part(name: name, filename: parameter("filename", in: disposition), content: Data(section[split.upperBound...])))
        }
        return parts
    }

    /// The quoted parameter `name` of a header line (`name="pack"`).
    private static func parameter(_ name: String, in line: Substring) -> String? {
        for item in line.split(separator: ";").dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == name else { continue }
            return pair[1].hasPrefix("\"") && pair[1].hasSuffix("\"") && pair[1].count >= 2
                ? String(pair[1].dropFirst().dropLast()) : pair[1]
        }
        return nil
    }
}
