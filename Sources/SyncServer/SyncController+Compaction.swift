import HavenCore
import Hummingbird

extension SyncController {
    /// One page from the store, with a cursor behind the compaction horizon answered as
    /// `410 cursor_expired`: the records deleted before it are gone, so deltas cannot catch up.
    func pullPage(since: Int64, after position: Int64?, limit: Int, for caller: Caller) async throws -> PullPage {
        do {
            return try await store.pull(
                since: since, after: position, limit: limit, maxBytes: configuration.pageBytes, for: caller)
        } catch is CursorExpired {
            throw APIError(
                .gone, code: "cursor_expired",
                message: "since: cursor is older than the server's retention window and deleted records were purged since; download everything again")
        }
    }
}
