import Foundation

/// A file of stories and resources: `{"format":"haven-pack/1","records":[…]}` (DESIGN §6).
///
/// Packs carry values without stamps: whoever imports a pack writes its records as new edits.
/// A pack says how new it is, so an import never silently undoes a later edit
/// (``ContentPack/step(for:current:overwrite:)``): an exported record carries its `version`, the
/// latest stamp it had; a hand-made pack may carry a `date`.
///
/// ``canonicalJSON()`` writes a pack with sorted keys and records, so two replicas holding the
/// same records export byte-identical files.
public struct ContentPack: Sendable, Hashable, Codable {
    /// The only format this version reads and writes.
    public static let currentFormat = "haven-pack/1"

    /// One record of a pack.
    public struct Record: Sendable, Hashable, Codable {
        /// The record's id, a lowercase UUID.
        public var id: String
        /// Whether it is a story or a resource.
        public var kind: RecordKind
        /// Its fields' values; a null value clears the field.
        public var fields: [String: JSONValue]
        /// The latest stamp the record had when it was exported; nil in hand-made packs.
        public var version: Timestamp?

        /// A record `id` of `kind` with `fields`, exported at `version` (nil for hand-made packs).
        public init(id: String, kind: RecordKind, fields: [String: JSONValue], version: Timestamp? = nil) {
            self.id = id
            self.kind = kind
            self.fields = fields
            self.version = version
        }
    }

    /// Always ``currentFormat``.
    public var format: String
    /// When a hand-made pack was made: an ISO 8601 date (`2026-12-01`) or date and time
    /// (`2026-12-01T09:30:00Z`). Records changed after it are not overwritten by default.
    public var date: String?
    /// The pack's records, sorted by id when the pack is written.
    public var records: [Record]

    /// A pack of `records`, made on `date` when it is hand-made.
    public init(records: [Record], date: String? = nil) {
        self.format = Self.currentFormat
        self.date = date
        self.records = records
    }

    /// Reads and checks a pack; see ``read(_:makeID:)``.
    public static func decode(_ data: Data) throws(ContentPackError) -> ContentPack {
        try read(data).pack
    }

    /// Reads and checks a pack: its format and date, and each record's id, kind and fields.
    ///
    /// Records are numbered from 1 in every message. A record without an id is given a new one
    /// (its number is in ``PackReading/generatedIDs``); a field name this version does not know
    /// is kept, with a warning naming the nearest known one.
    ///
    /// - Throws: ``ContentPackError`` listing every record at fault, not just the first.
    public static func read(_ data: Data, makeID: () -> String = RecordID.random) throws(ContentPackError) -> PackReading {
        let document: Document
        do {
            document = try JSONReader.decode(Document.self, from: data)
        } catch {
            throw ContentPackError(
                message: Words("not a content pack: \(describe(error))", korean: "콘텐츠 팩이 아닙니다: \(describe(error))").text)
        }
        guard document.format == currentFormat else {
            throw ContentPackError(
                message: Words(
                    "format is '\(document.format)', expected '\(currentFormat)'",
                    korean: "형식(format)이 '\(document.format)'입니다: 이 버전은 '\(currentFormat)' 형식만 읽습니다"
                ).text)
        }
        if let date = document.date, Self.milliseconds(ofDate: date) == nil {
            throw ContentPackError(
                message: Words(
                    "date: '\(date)' is not an ISO 8601 date such as 2026-12-01 or 2026-12-01T09:30:00Z",
                    korean: "date: ISO 8601 날짜가 아닙니다 ('\(date)'). 2026-12-01이나 2026-12-01T09:30:00Z처럼 쓰세요"
                ).text)
        }
        var reading = PackReading(pack: ContentPack(records: [], date: document.date))
        var problems: [String] = []
        var seen: Set<String> = []
        for (index, raw) in document.records.enumerated() {
            let number = index + 1
            do throws(Problem) {
                var record = try raw.record()
                if record.id.isEmpty {
                    record.id = makeID()
                    reading.generatedIDs.append(number)
                }
                guard seen.insert(record.id).inserted else {
                    throw Problem(Words("id \(record.id) appears twice", korean: "같은 id가 두 번 나옵니다: \(record.id)"))
                }
                do {
                    try RecordSchema.validate(record.fields, kind: record.kind)
                } catch {
                    throw Problem(record: record.id, error.description)
                }
                reading.warnings += record.fields.keys.sorted().compactMap {
                    RecordSchema.unknownFieldNote($0, kind: record.kind).map { note in
                        Words("record \(number) (\(record.id)): ", korean: "\(number)번째 기록 (\(record.id)): ").text + note
                    }
                }
                reading.pack.records.append(record)
            } catch {
                problems.append(Words("record \(number)", korean: "\(number)번째 기록").text + error.suffix)
            }
        }
        guard problems.isEmpty else { throw ContentPackError(problems: problems, of: document.records.count) }
        return reading
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

    /// `data`, a pack, with the ids of ``PackReading/generatedIDs`` written into their records
    /// and everything else kept: what `import` writes back, so that importing the file again
    /// updates the same records instead of adding copies.
    public static func writingIDs(of reading: PackReading, into data: Data) throws -> Data {
        guard case .object(var document) = try JSONDecoder().decode(JSONValue.self, from: data),
            case .array(var records) = document["records"]
        else { throw ContentPackError(message: Words("not a content pack", korean: "콘텐츠 팩이 아닙니다").text) }
        for number in reading.generatedIDs {
            guard case .object(var record) = records[number - 1] else { continue }
            record["id"] = .string(reading.pack.records[number - 1].id)
            records[number - 1] = .object(record)
        }
        document["records"] = .array(records)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(JSONValue.object(document)) + Data("\n".utf8)
    }

    /// Milliseconds since 1970 at the start of `date` (a day) or at `date` (a time), UTC unless
    /// the time says otherwise.
    public static func milliseconds(ofDate date: String) -> UInt64? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = date.count == 10 ? [.withFullDate] : [.withInternetDateTime]
        if let parsed = formatter.date(from: date) { return UInt64(max(0, parsed.timeIntervalSince1970 * 1000)) }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: date).map { UInt64(max(0, $0.timeIntervalSince1970 * 1000)) }
    }

    /// The pack as its file holds it: records are decoded one by one, so that each problem is
    /// named by the record's number.
    private struct Document: Decodable, JSONReadable {
        var format: String
        var date: String?
        var records: [RawRecord]

        /// A pack read directly; one with any record at fault is read again by `JSONDecoder`,
        /// which names each problem.
        init(reading reader: inout JSONReader) throws {
            var format: String?
            var date: String?
            var records: [RawRecord]?
            try reader.readMembers(["format", "date", "records"]) { reader, key in
                switch key {
                case 0: format = try reader.readString()
                case 1: date = reader.readNull() ? nil : try reader.readString()
                default: records = try reader.readArray { try RawRecord(reading: &$0) }
                }
            }
            guard let format, let records else { throw reader.unreadable() }
            self.format = format
            self.date = date
            self.records = records
        }
    }

    /// One element of `records`, read straight into a ``Record`` or the problem with it: a bad
    /// record is named by its number, and never stops the others being read.
    private struct RawRecord: Decodable {
        var read: Result<Record, Problem>

        private enum CodingKeys: String, CodingKey { case id, kind, fields, version }

        init(from decoder: any Decoder) {
            do throws(Problem) {
                read = .success(try Self.record(decoder))
            } catch {
                read = .failure(error)
            }
        }

        func record() throws(Problem) -> Record { try read.get() }

        /// A record with nothing at fault, as ``record(_:)`` reads it; anything else is left
        /// to `JSONDecoder`.
        init(reading reader: inout JSONReader) throws {
            var id = ""
            var kind: RecordKind?
            var fields: [String: JSONValue]?
            var version: Timestamp?
            try reader.readMembers(["id", "kind", "fields", "version"]) { reader, key in
                switch key {
                case 0:
                    // An empty id is at fault, not missing: JSONDecoder's reading names it.
                    guard !reader.readNull() else { return }
                    id = try reader.readString()
                    if id.isEmpty { throw reader.unreadable() }
                case 1: kind = try RecordKind(reading: &reader)
                case 2: fields = try reader.readDictionary { try $0.readValue() }
                default: version = reader.readNull() ? nil : try Timestamp(reading: &reader)
                }
            }
            guard let kind, let fields, id.isEmpty || RecordID.isValid(id) else { throw reader.unreadable() }
            read = .success(Record(id: id, kind: kind, fields: fields, version: version))
        }

        private static func record(_ decoder: any Decoder) throws(Problem) -> Record {
            guard let container = try? decoder.container(keyedBy: CodingKeys.self) else {
                throw Problem(Words("not an object", korean: "JSON 객체({…})가 아닙니다"))
            }
            let record: Record
            do {
                // A missing id is given one by the caller; an empty one is not an id.
                var id = ""
                if container.contains(.id), !(try container.decodeNil(forKey: .id)) {
                    id = try container.decode(String.self, forKey: .id)
                    if id.isEmpty { throw Problem.notAnID("") }
                }
                record = Record(
                    id: id, kind: try container.decode(RecordKind.self, forKey: .kind),
                    fields: try container.decode([String: JSONValue].self, forKey: .fields),
                    version: try container.decodeIfPresent(Timestamp.self, forKey: .version))
            } catch let problem as Problem {
                throw problem
            } catch {
                throw Problem(Words(verbatim: describe(error, below: decoder.codingPath.count)))
            }
            guard record.id.isEmpty || RecordID.isValid(record.id) else {
                throw Problem.notAnID(record.id)
            }
            return record
        }
    }

    /// What is wrong with one record: what follows "record N" in its message.
    private struct Problem: Error {
        var suffix: String
        init(_ words: Words) { suffix = ": " + words.text }
        init(record id: String, _ text: String) { suffix = " (\(id)): " + text }

        static func notAnID(_ id: String) -> Problem {
            Problem(Words("id '\(id)' is not a lowercase UUID", korean: "id가 소문자 UUID가 아닙니다: '\(id)'"))
        }
    }
}

/// A pack as ``ContentPack/read(_:makeID:)`` found it.
public struct PackReading: Sendable {
    /// The pack, every record valid.
    public var pack: ContentPack
    /// The numbers (from 1) of the records that had no id and were given one.
    public var generatedIDs: [Int] = []
    /// Field names this version does not know, with the nearest known name: kept, but likely typos.
    public var warnings: [String] = []
}

/// A content pack that cannot be read, with every record at fault.
public struct ContentPackError: Error, Sendable, CustomStringConvertible {
    /// One line per problem, each starting with the record's number when it is about a record.
    public let problems: [String]

    /// An error with one problem, `message`.
    public init(message: String) { problems = [message] }

    init(problems: [String], of total: Int) {
        let heading = Words(
            "\(problems.count) of \(total) records are not valid:", korean: "기록 \(total)개 중 \(problems.count)개가 올바르지 않습니다:")
        self.problems = problems.count == 1 ? problems : [heading.text] + problems.map { "  " + $0 }
    }

    /// Every problem, one a line.
    public var message: String { problems.joined(separator: "\n") }
    /// The same as ``message``.
    public var description: String { message }
}

/// A short description of a decoding error that names the path, never the values.
///
/// - Parameter depth: how many keys of the path to leave out: those of the value being read
///   inside a larger document.
public func describe(_ error: any Error, below depth: Int = 0) -> String {
    guard let error = error as? DecodingError else { return "\(error)" }
    func path(_ context: DecodingError.Context) -> String {
        let keys = context.codingPath.dropFirst(depth).map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return keys.isEmpty ? "the document" : String(keys.drop(while: { $0 == "." }))
    }
    switch error {
    case .dataCorrupted(let context):
        // Haven's own types describe the expected form without quoting the value.
        return context.codingPath.count <= depth ? "invalid JSON" : "\(path(context)): \(context.debugDescription)"
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
