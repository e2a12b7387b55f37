/// Why the change log refuses a pull: the caller's cursor cannot be caught up with deltas, so it
/// must download everything again (answered `410 cursor_expired`).
package struct CursorExpired: Error, Sendable, Hashable, CustomStringConvertible {
    package enum Reason: Sendable, Hashable {
        /// The cursor was issued by another database (its epoch differs): a replaced server.
        case otherDatabase
        /// The cursor is beyond the log's head: a database restored from an older copy.
        case aheadOfLog
        /// The cursor is below the compaction horizon: it may not have seen a purged delete.
        case behindHorizon
    }

    package let reason: Reason

    package init(_ reason: Reason) { self.reason = reason }

    /// The message the client reads, naming the parameter and what to do.
    package var description: String {
        let why =
            switch reason {
            case .otherDatabase: "is from another database"
            case .aheadOfLog: "is ahead of this database's log"
            case .behindHorizon:
                "is older than the server's retention window and deleted records were purged since"
            }
        return "since: cursor \(why); download everything again"
    }
}
