import HavenCore

/// The one byte encoding of a published record that the server and every client hash: the same
/// record gives the same bytes on every machine, whatever order its fields arrived in.
///
/// `"haven record v1" 0x00 kind 0x00 id 0x00` followed by the record's field values (without
/// stamps) as canonical JSON: object keys sorted by their UTF-8 bytes, no spaces, strings as
/// UTF-8 with only `"`, `\` and control characters escaped, a whole number written without a
/// fraction (`2.0` is `2`, as ``JSONValue``'s equality has it) and any other number in Swift's
/// shortest round-trip form.
public enum CanonicalRecord {
    /// The bytes of a record of `kind` and `id` whose fields hold `values`.
    public static func encoding(kind: RecordKind, id: String, values: [String: JSONValue]) -> [UInt8] {
        var bytes = Array("haven record v1".utf8) + [0]
        bytes += Array(kind.rawValue.utf8) + [0]
        bytes += Array(id.utf8) + [0]
        append(.object(values), to: &bytes)
        return bytes
    }

    /// The canonical JSON of `value`.
    public static func json(_ value: JSONValue) -> [UInt8] {
        var bytes: [UInt8] = []
        append(value, to: &bytes)
        return bytes
    }

    private static func append(_ value: JSONValue, to bytes: inout [UInt8]) {
        switch value {
        case .null: bytes += Array("null".utf8)
        case .bool(let flag): bytes += Array((flag ? "true" : "false").utf8)
        case .int(let number): bytes += Array(String(number).utf8)
        case .double(let number):
            if let whole = Int64(exactly: number) {
                bytes += Array(String(whole).utf8)
            } else {
                bytes += Array(number.description.utf8)
            }
        case .string(let text): appendString(text, to: &bytes)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                append(item, to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            let sorted = members.map { (Array($0.key.utf8), $0.value) }.sorted { $0.0.lexicographicallyPrecedes($1.0) }
            for (index, (key, member)) in sorted.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                appendString(key, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                append(member, to: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    private static func appendString(_ text: String, to bytes: inout [UInt8]) {
        var text = text
        text.withUTF8 { appendString($0, to: &bytes) }
    }

    private static func appendString(_ utf8: [UInt8], to bytes: inout [UInt8]) {
        utf8.withUnsafeBufferPointer { appendString($0, to: &bytes) }
    }

    /// `utf8` quoted, copied a run at a time between the bytes that need escaping
    /// (``PlainText``: every record published or pulled is encoded here).
    private static func appendString(_ utf8: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var copied = 0
        while true {
            let index = PlainText.end(of: UnsafeRawBufferPointer(utf8), from: copied)
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[copied..<index]))
            guard index < utf8.count else { break }
            let byte = utf8[index]
            if byte < 0x20 {
                let hex = Array("0123456789abcdef".utf8)
                bytes += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            } else {
                bytes += [UInt8(ascii: "\\"), byte]
            }
            copied = index + 1
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
