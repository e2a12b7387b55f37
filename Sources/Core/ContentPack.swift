import Foundation

/// A file of stories and resources: `{"format":"haven-pack/1","records":[…]}` (DESIGN §6).
///
/// Packs carry values without stamps: whoever imports a pack writes its records as new edits.
/// ``canonicalJSON()`` writes a pack with sorted keys and records, so two replicas holding the
/// same records export byte-identical files.
public struct ContentPack: Sendable, Hashable, Codable {
    /// The only format this version reads and writes.
    public static let currentFormat = "haven-pack/1"

    /// One record of a pack.
    public struct Record: Sendable, Hashable, Codable {
        public var id: String
        public var kind: RecordKind
        public var fields: [String: JSONValue]

        public init(id: String, kind: RecordKind, fields: [String: JSONValue]) {
            self.id = id
            self.kind = kind
            self.fields = fields
        }
    }

    public var format: String
    public var records: [Record]

    public init(records: [Record]) {
        self.format = Self.currentFormat
        self.records = records
    }

    /// Reads and checks a pack: its format, each record's id, kind and fields.
    ///
    /// - Throws: ``ContentPackError`` naming the record and field at fault.
    public static func decode(_ data: Data) throws -> ContentPack {
        let pack: ContentPack
        do {
            pack = try JSONDecoder().decode(ContentPack.self, from: data)
        } catch {
            throw ContentPackError(message: "not a content pack: \(describe(error))")
        }
        guard pack.format == currentFormat else {
            throw ContentPackError(message: "format is '\(pack.format)', expected '\(currentFormat)'")
        }
        var seen: Set<String> = []
        for (index, record) in pack.records.enumerated() {
            guard RecordID.isValid(record.id) else {
                throw ContentPackError(message: "record \(index + 1): id '\(record.id)' is not a lowercase UUID")
            }
            guard seen.insert(record.id).inserted else {
                throw ContentPackError(message: "record \(index + 1): id \(record.id) appears twice")
            }
            do {
                try RecordSchema.validate(record.fields, kind: record.kind)
            } catch {
                throw ContentPackError(message: "record \(index + 1) (\(record.id)): \(error.message)")
            }
        }
        return pack
    }

    /// The pack as canonical JSON: records sorted by id, keys sorted, two-space indentation.
    public func canonicalJSON() throws -> Data {
        var sorted = self
        sorted.records.sort { $0.id < $1.id }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try encoder.encode(sorted)
        data.append(0x0A)
        return data
    }
}

/// A content pack that cannot be read, with the record at fault.
public struct ContentPackError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// A short description of a decoding error that names the path, never the values.
public func describe(_ error: any Error) -> String {
    guard let error = error as? DecodingError else { return "\(error)" }
    func path(_ context: DecodingError.Context) -> String {
        let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return keys.isEmpty ? "the document" : String(keys.drop(while: { $0 == "." }))
    }
    switch error {
    case .dataCorrupted(let context):
        // Haven's own types describe the expected form without quoting the value.
        return context.codingPath.isEmpty ? "invalid JSON" : "\(path(context)): \(context.debugDescription)"
    case .keyNotFound(let key, let context):
        let parent = path(context)
        return "\(parent == "the document" ? "" : parent + ".")\(key.stringValue): missing"
    case .typeMismatch(let type, let context):
        return "\(path(context)): expected \(type)"
    case .valueNotFound(let type, let context):
        return "\(path(context)): expected \(type), found null"
    @unknown default:
        return "invalid JSON"
    }
}
