import Foundation
import HavenCore

/// How both backends keep records, changes and conflicts in a text column: compact JSON.
enum StoredJSON {
    // One of each, shared: both are safe to use from several threads at once.
    private static let encoder = JSONEncoder()
    private static let decoder = JSONDecoder()

    static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// A change as the log stores it, written directly (``CompactJSON``).
    static func encode(_ change: Change) throws -> String {
        String(decoding: try CompactJSON.encode(change), as: UTF8.self)
    }

    /// A merged record as the state table stores it, written directly (``CompactJSON``).
    static func encode(_ record: TrackedRecord) throws -> String {
        String(decoding: try CompactJSON.encode(record), as: UTF8.self)
    }

    static func decode<Value: Decodable>(_ type: Value.Type, from text: String) throws -> Value {
        try decoder.decode(type, from: Data(text.utf8))
    }

    /// Records and changes, read without `JSONDecoder`'s cost (``JSONReader``).
    static func decode<Value: JSONReadable>(_ type: Value.Type, from text: String) throws -> Value {
        try JSONReader.decode(type, from: text)
    }
}
