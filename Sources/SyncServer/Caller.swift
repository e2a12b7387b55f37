import HavenCore

/// The authenticated sender of a request.
public struct Caller: Sendable, Hashable {
    /// The token's id: the author of the caller's changes.
    public let tokenID: String
    /// The token's name, shown to others as the author of winning writes.
    public let name: String
    /// What the token may do.
    public let role: Role

    /// The caller whose token has the id `tokenID`, the name `name` and the role `role`.
    public init(tokenID: String, name: String, role: Role) {
        self.tokenID = tokenID
        self.name = name
        self.role = role
    }
}
