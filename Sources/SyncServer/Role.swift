import HavenCore

/// What a token may do (DESIGN §4). Everything not granted is denied.
public enum Role: String, Sendable, Hashable, Codable, CaseIterable {
    /// Everything, tokens included.
    case admin
    /// Creates, edits, publishes and deletes stories and resources.
    case editor
    /// Reads published content, creates stories, edits their own unpublished stories.
    case field
    /// Reads published content.
    case reader

    /// Whether the role may push changes at all.
    var canWrite: Bool { self != .reader }
    /// Whether the role sees every record, drafts and restricted stories included.
    var seesEverything: Bool { self == .admin || self == .editor }
}

/// The authenticated sender of a request.
public struct Caller: Sendable, Hashable {
    /// The token's id: the author of the caller's changes.
    public let tokenID: String
    /// The token's name, shown to others as the author of winning writes.
    public let name: String
    public let role: Role

    public init(tokenID: String, name: String, role: Role) {
        self.tokenID = tokenID
        self.name = name
        self.role = role
    }
}
