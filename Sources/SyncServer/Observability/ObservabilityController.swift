import Hummingbird
import NIOCore

/// The operator routes: `GET /healthz` (public) and `GET /metrics` (admin tokens only).
struct ObservabilityController {
    let store: any ChangeLogStorage
    let metrics: ServerMetrics

    /// Adds both routes; `auth` guards `/metrics`, which denies by default like every route but
    /// `/healthz`: counts and rates say how busy an organisation is, which is not public. Other
    /// methods on `/metrics` are refused behind `auth` too, so a caller without a token learns
    /// nothing about the route.
    func addRoutes(to router: Router<HavenRequestContext>, auth: AuthMiddleware) {
        router.get("healthz", use: health).refuseOtherMethods(on: "healthz", allowing: [.get])
        router.group("metrics").add(middleware: auth)
            .get(use: scrape)
            .refuseOtherMethods(on: "", allowing: [.get])
    }

    /// 200 `{"status":"ok"}` when the database answers a trivial query; 503 `unavailable` otherwise.
    func health(_ request: Request, context: HavenRequestContext) async throws -> Response {
        do {
            try await store.checkHealth()
        } catch {
            context.logger.error("health check failed", metadata: ["error": "\(describeStoreError(error))"])
            throw APIError(.serviceUnavailable, code: .unavailable, message: "the database does not answer")
        }
        return jsonResponse(["status": "ok"])
    }

    /// The Prometheus text exposition, with the log size read fresh.
    func scrape(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        guard caller.role == .admin else { throw APIError.forbidden("/metrics needs an admin token") }
        metrics.changeLogRows.set(try await store.logSize())
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
    }
}
