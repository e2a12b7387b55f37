import Foundation

/// What a record is: a story (testimony, news, guidance) or a resource (a place or line of help).
public enum RecordKind: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// A story: testimony, news or guidance.
    case story
    /// A resource: a hotline, shelter or other help.
    case resource

    /// `story` or `resource`.
    public var description: String { rawValue }

    /// The kind as a person reads it, one record: story (이야기), resource (지원 정보). Both Korean
    /// nouns end in a vowel, so the particle after them is the same for either.
    public var noun: Words {
        switch self {
        case .story: Words("story", korean: "이야기")
        case .resource: Words("resource", korean: "지원 정보")
        }
    }

    /// The kind as a person reads it, many records: stories, resources (Korean has no plural).
    public var pluralNoun: Words {
        switch self {
        case .story: Words("stories", korean: "이야기")
        case .resource: Words("resources", korean: "지원 정보")
        }
    }

    /// Reads `story` or `resource`, and throws for anything else.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let kind = RecordKind(rawValue: try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be story or resource")
        }
        self = kind
    }
}

/// Record ids are lowercase UUIDs.
public enum RecordID {
    /// Whether `text` is a lowercase UUID in its 8-4-4-4-12 form.
    public static func isValid(_ text: String) -> Bool {
        // Read as bytes: every record of every page is checked (Character methods cost a
        // Unicode lookup each).
        let utf8 = text.utf8
        guard utf8.count == 36 else { return false }
        for (offset, byte) in utf8.enumerated() {
            let isDash = offset == 8 || offset == 13 || offset == 18 || offset == 23
            let valid =
                isDash
                ? byte == UInt8(ascii: "-")
                : (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            guard valid else { return false }
        }
        return true
    }

    /// A new random id.
    public static func random() -> String { UUID().uuidString.lowercased() }
}
