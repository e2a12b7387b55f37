import Hummingbird
import Metrics

/// Counts every answered request by route pattern, method and status, and times successful
/// pushes and pulls. Added first, so it sees the final status of every request, errors included.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = HavenRequestContext
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let started = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            // The error middleware answers every error; this is only reached if it is missing.
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            metrics.countRequest(route: context.route, method: request.method.rawValue, status: status.code)
            throw error
        }
        let route = context.route
        metrics.countRequest(route: route, method: request.method.rawValue, status: response.status.code)
        if route == "/v1/changes", response.status == .ok {
            let elapsed = ContinuousClock.now - started
            switch request.method {
            case .post: metrics.pushDuration.record(duration: elapsed)
            case .get:
                let wait = request.uri.queryParameters["wait"].flatMap { Double(String($0)) } ?? 0
                (wait > 0 ? metrics.longPollDuration : metrics.pullDuration).record(duration: elapsed)
            default: break
            }
        }
        return response
    }
}

extension HavenRequestContext {
    /// The route pattern the request matched (`/v1/changes`), or `unmatched`: never the raw path,
    /// so metrics and logs carry no ids, query strings or whatever a client typed.
    var route: String {
        guard let path = endpointPath, path != "NotFound" else { return "unmatched" }
        return path
    }
}
