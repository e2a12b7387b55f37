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
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        return groups.map(\.count) == [8, 4, 4, 4, 12]
            && groups.allSatisfy { $0.allSatisfy(\.isLowercaseHexDigit) }
    }

    /// A new random id.
    public static func random() -> String { UUID().uuidString.lowercased() }
}
