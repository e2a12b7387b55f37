import HavenCore

/// What went wrong on the client, in words that say what to do next.
public struct ClientError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    static func noReplica(_ path: String) -> ClientError {
        ClientError("no replica at \(path): run 'haven init --server URL --token TOKEN' first")
    }

    static func noRecord(_ id: String) -> ClientError {
        ClientError("no record with id \(id) in this replica (see 'haven stories list' or 'haven resources list')")
    }
}

/// An error answered by the server, with its HTTP status.
public struct ServerError: Error, Sendable, CustomStringConvertible {
    public let status: Int
    public let detail: ErrorDetail

    public var description: String {
        let hint: String =
            switch status {
            case 401: " — the token is unknown, expired or revoked: ask an admin for a new one"
            case 403: " — this token's role does not allow it"
            default: ""
            }
        return "server answered \(status): \(detail.message) (\(detail.code))\(hint)"
    }
}
