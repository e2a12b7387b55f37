/// What a token may do (DESIGN §4). Everything not granted is denied; ``WritePermission`` holds
/// the rules for writes, which the server enforces and a client checks before saving.
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
    public var canWrite: Bool { self != .reader }
    /// Whether the role sees every record, drafts and restricted stories included.
    public var seesEverything: Bool { self == .admin || self == .editor }
}
