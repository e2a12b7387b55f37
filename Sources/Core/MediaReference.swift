/// One file a record refers to from its `media` field: a blob named by the SHA-256 of its bytes
/// (issue 17), with its type, size and a name a person gave it.
///
/// Rule 1. The id is the blob's content: the same bytes are one blob on the server, whoever
/// uploads them, and a client checks every byte it downloads against the id.
///
/// Rule 2. `media` is a field like any other, one last-writer-wins register holding the whole
/// list: adding or removing a file writes the list anew.
///
/// Rule 3. A server admits a change whose `media` names a blob only once that blob is complete
/// and its hash verified (``ErrorCode/mediaMissing``): nobody receives a reference to a missing
/// file.
///
/// For example, the value of a story's `media` field:
/// ```json
/// [{"id": "9f86d0…", "type": "image/jpeg", "size": 48213, "name": "leaflet.jpg"}]
/// ```
public struct MediaReference: Sendable, Hashable, Codable {
    /// The SHA-256 of the file's bytes, 64 lowercase hex digits.
    public var id: String
    /// The file's media type, one of ``allowedTypes``.
    public var type: String
    /// The file's length in bytes.
    public var size: Int64
    /// What a person calls the file, unique within the record: `leaflet.jpg`.
    public var name: String

    /// A reference to the file whose SHA-256 is `id`.
    public init(id: String, type: String, size: Int64, name: String) {
        self.id = id
        self.type = type
        self.size = size
        self.name = name
    }

    /// The types a record may refer to: photos, voice notes, short videos, documents.
    public static let allowedTypes = [
        "image/jpeg", "image/png", "image/webp", "audio/mp4", "audio/mpeg", "audio/ogg", "audio/webm", "video/mp4",
        "application/pdf", "text/plain",
    ]

    /// The largest file any server stores; a server may hold files to less (``ProtocolLimits/mediaFileBytes``).
    public static let maxSize: Int64 = 1 << 30

    /// The longest name, in characters.
    public static let maxNameLength = 200

    /// The type a file name's extension suggests, nil when it is none of ``allowedTypes``.
    public static func type(forName name: String) -> String? {
        let ext = name.split(separator: ".").last.map { $0.lowercased() } ?? ""
        return [
            "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "m4a": "audio/mp4",
            "mp3": "audio/mpeg", "ogg": "audio/ogg", "oga": "audio/ogg", "weba": "audio/webm", "mp4": "video/mp4",
            "pdf": "application/pdf", "txt": "text/plain",
        ][ext]
    }

    /// Whether `id` is a blob id: 64 lowercase hex digits.
    public static func isBlobID(_ id: some StringProtocol) -> Bool {
        id.utf8.count == 64 && id.allSatisfy(\.isLowercaseHexDigit)
    }

    /// The value of a `media` field holding `references`.
    public static func field(_ references: [MediaReference]) -> JSONValue {
        .array(
            references.map {
                .object(["id": .string($0.id), "type": .string($0.type), "size": .int($0.size), "name": .string($0.name)])
            })
    }

    /// The references a `media` field holds; empty when it holds none or is malformed (the
    /// schema refuses those before they are stored).
    public static func references(in value: JSONValue?) -> [MediaReference] {
        guard case .array(let items)? = value else { return [] }
        return items.compactMap { try? reference(from: $0) }
    }

    /// The blob ids a record's change writes in its `media` field, nil when it writes none.
    public static func blobIDs(writtenBy record: RecordState) -> [String]? {
        guard let register = record.fields["media"] else { return nil }
        return references(in: register.value).map(\.id)
    }

    /// One entry of a `media` field, checked.
    ///
    /// - Throws: what is wrong with it, in words.
    static func reference(from value: JSONValue) throws(MediaProblem) -> MediaReference {
        guard case .object(let members) = value else {
            throw MediaProblem(Words("each entry must be an object with id, type, size and name", korean: "각 항목은 id, type, size, name이 있는 객체여야 합니다"))
        }
        if let extra = members.keys.sorted().first(where: { !["id", "type", "size", "name"].contains($0) }) {
            throw MediaProblem(Words("unknown key '\(extra.prefix(64))' in an entry", korean: "항목에 모르는 키가 있습니다: \(extra.prefix(64))"))
        }
        guard let id = members["id"]?.stringValue, isBlobID(id) else {
            throw MediaProblem(Words("each id must be the SHA-256 of the file, 64 lowercase hex digits", korean: "각 id는 파일의 SHA-256, 소문자 16진수 64자리여야 합니다"))
        }
        guard let type = members["type"]?.stringValue, allowedTypes.contains(type) else {
            let choices = allowedTypes.joined(separator: ", ")
            throw MediaProblem(Words("each type must be one of \(choices)", korean: "각 type은 다음 중 하나여야 합니다: \(choices)"))
        }
        guard case .int(let size)? = members["size"], (1...maxSize).contains(size) else {
            throw MediaProblem(Words("each size must be a whole number of bytes from 1 to \(maxSize)", korean: "각 size는 1에서 \(maxSize)까지의 바이트 수여야 합니다"))
        }
        guard let name = members["name"]?.stringValue, isValidName(name) else {
            throw MediaProblem(Words("each name must have 1 to \(maxNameLength) characters, without / \\ or control characters", korean: "각 name은 /, \\, 제어 문자 없이 1글자에서 \(maxNameLength)글자까지여야 합니다"))
        }
        return MediaReference(id: id, type: type, size: size, name: name)
    }

    /// A name a file may be saved under: no path separators, no control characters, not `.` or `..`.
    public static func isValidName(_ name: String) -> Bool {
        (1...maxNameLength).contains(name.count) && name != "." && name != ".."
            && !name.unicodeScalars.contains { $0 == "/" || $0 == "\\" || $0.properties.generalCategory == .control }
    }
}

/// What is wrong with one entry of a `media` field.
struct MediaProblem: Error {
    var words: Words
    init(_ words: Words) { self.words = words }
}
