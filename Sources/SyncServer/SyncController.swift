import Foundation
import HavenCore
import Hummingbird

/// The sync routes: `GET /v1/changes` (pull) and `POST /v1/changes` (push), DESIGN §4.
struct SyncController {
    let store: any SyncStore
    let configuration: ServerConfiguration
    let clock: @Sendable () -> UInt64

    func addRoutes(to group: RouterGroup<HavenRequestContext>) {
        group.get("changes", use: pull)
        group.post("changes", use: push)
        // Hummingbird answers 404 for a known path with another method; DESIGN §4 wants 405.
        for method in [HTTPRequest.Method.put, .patch, .delete] {
            group.on("changes", method: method) { _, _ -> Response in
                var error = APIError(
                    .methodNotAllowed, code: "method_not_allowed", message: "/v1/changes takes GET or POST")
                error.headers[.allow] = "GET, POST"
                throw error
            }
        }
    }

    func pull(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let query = request.uri.queryParameters
        var since: Int64 = 0
        if let text = query["since"].map(String.init), !text.isEmpty {
            guard let cursor = SyncCursor(text) else {
                throw APIError.badRequest("invalid_cursor", "since: '\(text.prefix(80))' is not a cursor from this server")
            }
            guard cursor.epoch == store.epoch else {
                throw APIError(
                    .gone, code: "cursor_expired",
                    message: "since: cursor is from another database; download everything again")
            }
            since = cursor.seq
        }
        var limit = configuration.pageLimit
        if let text = query["limit"].map(String.init) {
            guard let value = Int(text), (1...configuration.pageLimit).contains(value) else {
                throw APIError.badRequest("invalid_limit", "limit: must be a whole number from 1 to \(configuration.pageLimit)")
            }
            limit = value
        }
        let page = try await store.pull(since: since, limit: limit, maxBytes: configuration.pageBytes, for: caller)
        guard page.cursor.seq >= since else {
            // Same epoch, but the log is shorter than the cursor: a database restored from an
            // older copy. Pulling on would skip the changes that refill those positions.
            throw APIError(
                .gone, code: "cursor_expired",
                message: "since: cursor is ahead of this database's log; download everything again")
        }
        return jsonResponse(
            PullResponse(
                changes: page.changes, removed: page.removed, conflicts: page.conflicts, cursor: page.cursor,
                more: page.more, serverTime: clock()))
    }

    func push(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        guard caller.role.canWrite else { throw APIError.forbidden("a \(caller.role.rawValue) token cannot push changes") }
        guard let type = request.headers[.contentType], type.lowercased().hasPrefix("application/json") else {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type", message: "Content-Type must be application/json")
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: configuration.maxBodyBytes)
        } catch {
            throw APIError(
                .contentTooLarge, code: "too_large", message: "request body exceeds \(configuration.maxBodyBytes) bytes")
        }
        let body: PushRequest
        do {
            body = try JSONDecoder().decode(PushRequest.self, from: Data(buffer.readableBytesView))
        } catch {
            throw APIError.badRequest("invalid_json", "body: \(describe(error))")
        }
        guard body.changes.count <= configuration.maxBatchSize else {
            throw APIError(
                .contentTooLarge, code: "batch_too_large",
                message: "changes: \(body.changes.count) in one push, at most \(configuration.maxBatchSize)")
        }
        let results = try await store.push(body.changes, by: caller, now: clock(), maxDrift: configuration.maxDrift)
        let applied = results.filter { $0.status == .applied }.count
        context.logger.info("push", metadata: ["changes": "\(results.count)", "applied": "\(applied)"])
        return jsonResponse(PushResponse(results: results, serverTime: clock()))
    }
}
