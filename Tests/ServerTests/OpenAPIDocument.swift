import Foundation

/// `docs/openapi.yaml`, read by a small indentation-based YAML reader: enough YAML for the
/// document (block mappings and sequences, plain and quoted scalars, block scalars kept as
/// text), so the contract test needs no YAML package.
struct OpenAPIDocument {
    /// One YAML node: a scalar, or a mapping whose sequence items have the key `-`.
    final class Node {
        var scalar: String?
        var entries: [(key: String, value: Node)] = []

        init(scalar: String? = nil) { self.scalar = scalar }

        subscript(_ key: String) -> Node? { entries.first { $0.key == key }?.value }
        var keys: [String] { entries.map(\.key) }
        /// The items of a block sequence.
        var items: [Node] { entries.filter { $0.key == "-" }.map(\.value) }
        /// The items of a flow sequence of scalars, `[a, b]`.
        var list: [String] {
            guard let scalar, scalar.hasPrefix("["), scalar.hasSuffix("]") else { return [] }
            return scalar.dropFirst().dropLast().split(separator: ",").map {
                OpenAPIDocument.unquote($0.trimmingCharacters(in: .whitespaces))
            }
        }
    }

    /// The repository's root, found from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    let text: String
    let root: Node

    /// Reads `docs/openapi.yaml`.
    static func load() throws -> OpenAPIDocument {
        let text = try String(contentsOf: root.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        return OpenAPIDocument(text: text, root: try parse(text))
    }

    /// The HTTP methods an OpenAPI path item may hold.
    static let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// Every operation as `METHOD /path`.
    var operations: Set<String> {
        var operations: Set<String> = []
        for (path, item) in root["paths"]?.entries ?? [] {
            for method in item.keys where Self.methods.contains(method) {
                operations.insert("\(method.uppercased()) \(path)")
            }
        }
        return operations
    }

    /// The documented paths.
    var paths: Set<String> { Set(root["paths"]?.keys ?? []) }

    /// The schema a `$ref` such as `#/components/schemas/Change` points to.
    func resolve(_ reference: String) -> Node? {
        guard reference.hasPrefix("#/") else { return nil }
        var node: Node? = root
        for part in reference.dropFirst(2).split(separator: "/") { node = node?[String(part)] }
        return node
    }

    // MARK: - Reading YAML

    struct SyntaxError: Error, CustomStringConvertible {
        let line: Int
        let problem: String
        var description: String { "docs/openapi.yaml line \(line): \(problem)" }
    }

    private struct Line {
        var number: Int
        var indent: Int
        var text: String
    }

    static func parse(_ text: String) throws -> Node {
        var lines: [Line] = []
        var rawLines = text.components(separatedBy: "\n")[...]
        var number = 0
        while let raw = rawLines.popFirst() {
            number += 1
            let trimmed = raw.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let indent = raw.prefix { $0 == " " }.count
            var line = Line(number: number, indent: indent, text: trimmed)
            // A block scalar (`key: |`): the more indented lines that follow are its text.
            if let marker = ["|", "|-", ">", ">-"].first(where: { trimmed.hasSuffix(": \($0)") }) {
                var body: [String] = []
                while let next = rawLines.first,
                    next.trimmingCharacters(in: .whitespaces).isEmpty
                        || next.prefix(while: { $0 == " " }).count > indent
                {
                    body.append(next.trimmingCharacters(in: .whitespaces))
                    rawLines.removeFirst()
                    number += 1
                }
                line.text = String(trimmed.dropLast(marker.count)) + "\u{0}" + body.joined(separator: "\n")
            }
            lines.append(line)
        }
        var index = 0
        let root = try parseBlock(&lines, &index, indent: 0)
        if index < lines.count { throw SyntaxError(line: lines[index].number, problem: "unexpected indentation") }
        return root
    }

    /// The mapping or sequence whose entries sit at exactly `indent`.
    private static func parseBlock(_ lines: inout [Line], _ index: inout Int, indent: Int) throws -> Node {
        let node = Node()
        while index < lines.count, lines[index].indent == indent {
            let line = lines[index]
            if line.text == "-" || line.text.hasPrefix("- ") {
                let rest = line.text.dropFirst(1).trimmingCharacters(in: .whitespaces)
                if splitKey(rest) == nil {
                    node.entries.append(("-", Node(scalar: unquote(rest))))
                    index += 1
                } else {
                    // `- key: value`: the item is a mapping whose entries sit two columns in.
                    lines[index] = Line(number: line.number, indent: indent + 2, text: rest)
                    node.entries.append(("-", try parseBlock(&lines, &index, indent: indent + 2)))
                }
                continue
            }
            guard let (key, value) = splitKey(line.text) else {
                throw SyntaxError(line: line.number, problem: "expected `key: value`, found \(line.text)")
            }
            index += 1
            if let blockStart = value.firstIndex(of: "\u{0}") {
                node.entries.append((key, Node(scalar: String(value[value.index(after: blockStart)...]))))
            } else if !value.isEmpty {
                node.entries.append((key, Node(scalar: unquote(value))))
            } else if index < lines.count, lines[index].indent > indent {
                node.entries.append((key, try parseBlock(&lines, &index, indent: lines[index].indent)))
            } else if index < lines.count, lines[index].indent == indent, lines[index].text.hasPrefix("- ") {
                node.entries.append((key, try parseBlock(&lines, &index, indent: indent)))
            } else {
                node.entries.append((key, Node()))
            }
        }
        return node
    }

    /// Splits `key: value` (or `key:`) at the first colon outside quotes.
    private static func splitKey(_ text: String) -> (String, String)? {
        var quote: Character?
        for index in text.indices {
            let character = text[index]
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == ":" {
                let after = text.index(after: index)
                guard after == text.endIndex || text[after] == " " || text[after] == "\u{0}" else { continue }
                let key = unquote(String(text[..<index]).trimmingCharacters(in: .whitespaces))
                let value = String(text[after...]).trimmingCharacters(in: .whitespaces)
                return (key, value)
            }
        }
        return nil
    }

    static func unquote(_ text: String) -> String {
        if text.count >= 2, text.hasPrefix("'"), text.hasSuffix("'") {
            return String(text.dropFirst().dropLast()).replacingOccurrences(of: "''", with: "'")
        }
        if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") {
            return String(text.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"")
        }
        return text
    }
}
