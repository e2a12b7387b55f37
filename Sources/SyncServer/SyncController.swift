import Foundation
import HavenCore
import Hummingbird
import HummingbirdCore

/// The sync routes: `GET /v1/changes` (pull) and `POST /v1/changes` (push), DESIGN §4.
struct SyncController {
    let log: ChangeLog
    let configuration: ServerConfiguration
    let clock: HybridLogicalClock.WallClock
    /// Counts pushed changes by outcome.
    let metrics: ServerMetrics
    /// Where a caller is checked again after a wait (see ``confirmCaller(of:)``).
    let tokens: any TokenStore

    func addRoutes(to group: RouterGroup<HavenRequestContext>) {
        group.get("changes", use: pull)
        group.post("changes", use: push)
        group.get("changes/stream", use: stream)
        // Behind the group's authentication, like the routes themselves: 401 comes before 405.
        group.refuseOtherMethods(on: "changes", allowing: [.get, .post])
        group.refuseOtherMethods(on: "changes/stream", allowing: [.get])
    }

    func pull(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let query = request.uri.queryParameters
        let since = try Self.since(in: query)
        let limit = try limit(in: query)
        var wait = 0.0
        if let text = query["wait"].map(String.init) {
            guard let value = Double(text), value.isFinite, (0...configuration.maxWait).contains(value) else {
                throw APIError.badRequest(.invalidWait, "wait: must be a number of seconds from 0 to \(Int(configuration.maxWait))")
            }
            wait = value
        }
        let page: PullPage
        let read = {
            try await log.pull(
                since: since, limit: limit, maxBytes: configuration.pageBytes, for: caller,
                wait: .milliseconds(Int64(wait * 1000)))
        }
        do {
            // A long-poll is counted while it waits, for the console's health page.
            page = try await wait > 0 ? metrics.activity.waiting(read) : read()
        } catch let expired as CursorExpired {
            throw APIError.gone(expired)
        }
        if wait > 0 { try await confirmCaller(of: request) }
        metrics.activity.count(.pull, at: clock())
        // Written directly: a page is megabytes, and JSONEncoder was a third of a first sync's CPU.
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(
                byteBuffer: ByteBuffer(bytes: try page.answer(serverTime: clock(), version: Self.version(of: request)))))
    }

    /// The protocol version `request` speaks, which ``ProtocolVersionMiddleware`` has admitted.
    static func version(of request: Request) -> Int {
        guard case .accepted(let version) = ProtocolVersion.admit(request.headers[.havenProtocol]) else {
            return ProtocolVersion.unstated
        }
        return version
    }

    func push(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        guard caller.role.canWrite else { throw APIError.forbidden("a \(caller.role.rawValue) token cannot push changes") }
        // `application/json`, parameters such as `charset=utf-8` allowed; not `application/jsonx`.
        let type = request.headers[.contentType]
        guard
            type?.split(separator: ";", maxSplits: 1).first?.trimmingCharacters(in: .whitespaces).lowercased()
                == "application/json"
        else {
            throw APIError(
                .unsupportedMediaType, code: .unsupportedMediaType,
                message: "Content-Type must be application/json, not "
                    + (type.map { "'\($0.prefix(80))'" } ?? "missing"))
        }
        let limits = RequestLimits(configuration)
        var request = request
        let buffer = try await limits.collectBody(of: &request)
        // A body can take minutes on a slow link.
        try await confirmCaller(of: request)
        try limits.checkJSON(buffer)
        let body: PushRequest
        do {
            body = try JSONReader.decode(PushRequest.self, from: Data(buffer.readableBytesView))
        } catch {
            throw APIError.badRequest(.invalidJSON, "body: \(describe(error))")
        }
        guard body.changes.count <= configuration.maxBatchSize else {
            throw APIError(
                .contentTooLarge, code: .batchTooLarge,
                message: "changes: \(body.changes.count) in one push, at most \(configuration.maxBatchSize)")
        }
        let results = try await write(body.changes, by: caller)
        let applied = results.filter { $0.status == .applied }.count
        context.logger.info("push", metadata: ["changes": "\(results.count)", "applied": "\(applied)"])
        return jsonResponse(PushResponse(results: results, serverTime: clock()))
    }

    /// Writes `changes` to the change log as `caller`: the one write path of the server, for a
    /// push and for an edit in the console alike. One result per change, in order.
    func write(_ changes: [Change], by caller: Caller) async throws -> [PushResult] {
        // A change too large to store is rejected alone; the others go on (DESIGN §4).
        let (admitted, rejected) = RequestLimits(configuration).partition(changes)
        let stored =
            admitted.isEmpty
            ? [] : try await log.push(
                admitted.map(\.1), by: caller, now: clock(), maxDrift: configuration.maxDrift, review: configuration.review)
        var slots = [PushResult?](repeating: nil, count: changes.count)
        for ((index, _), result) in zip(admitted, stored) { slots[index] = result }
        for (index, result) in rejected { slots[index] = result }
        let results = slots.compactMap { $0 }
        metrics.countPush(results)
        metrics.activity.count(.push, at: clock())
        return results
    }

    /// The `limit` parameter: records per page, held to the server's page limit.
    func limit(in query: FlatDictionary<Substring, Substring>) throws -> Int {
        guard let text = query["limit"].map(String.init) else { return configuration.pageLimit }
        // Above the cap, even beyond Int, is served at the cap: a client need not know it.
        let digits = !text.isEmpty && text.utf8.allSatisfy { (0x30...0x39).contains($0) }
        guard let value = Int(text) ?? (digits ? .max : nil), value >= 1 else {
            throw APIError.badRequest(.invalidLimit, "limit: must be a whole number of at least 1")
        }
        return min(value, configuration.pageLimit)
    }

    /// The `since` parameter: nil for a download from scratch.
    static func since(in query: FlatDictionary<Substring, Substring>) throws -> SyncCursor? {
        guard let text = query["since"].map(String.init), !text.isEmpty else { return nil }
        guard let cursor = SyncCursor(text) else {
            throw APIError.badRequest(.invalidCursor, "since: '\(text.prefix(80))' is not a cursor from this server")
        }
        return cursor
    }

    /// Checks the request's token again, now: a token revoked or expired while a long-poll
    /// waited, or while a body arrived, gets 401 as any request of its own would, and neither
    /// reads what came in the meantime nor writes.
    func confirmCaller(of request: Request) async throws {
        guard let header = request.headers[.authorization],
            try await tokens.caller(forAuthorization: header, now: clock()) != nil
        else { throw APIError.unauthorized }
    }
}
