/// How many people a deployment needs to publish (`haven-server serve --review`), stated to
/// clients by `GET /v1/me` so that they refuse before saving what the server would refuse.
public enum ReviewPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// The default: a record is published only by an editor or admin who is not its last editor,
    /// after it was submitted for review.
    case two
    /// For small teams: an editor or admin signs off their own work, publishing directly or
    /// approving their own change. Field staff still submit for review.
    case single
}
