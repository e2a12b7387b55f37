import HTTPTypes
import Hummingbird

extension RouterMethods where Context == HavenRequestContext {
    /// Registers a 405 `method_not_allowed` answer, with an `Allow` header, for every standard
    /// method that `path` does not take, HEAD and OPTIONS included. Hummingbird alone would
    /// answer 404.
    ///
    /// Call it on the router or group that holds the route, after the route: the refusals then
    /// run behind the same middleware (on `/v1`, an unauthenticated caller gets 401 first). They
    /// show up in `router.routes`. A method outside the standard ones (`FOO`) stays a 404. For
    /// example:
    /// ```swift
    /// router.group("metrics").add(middleware: auth).get(use: scrape).refuseOtherMethods(on: "", allowing: [.get])
    /// ```
    @discardableResult
    func refuseOtherMethods(on path: RouterPath, allowing allowed: [HTTPRequest.Method]) -> Self {
        let names = allowed.map(\.rawValue)
        let takes = names.count > 1 ? names.dropLast().joined(separator: ", ") + " or " + names.last! : names.joined()
        let standard: [HTTPRequest.Method] = [.get, .head, .post, .put, .delete, .connect, .options, .trace, .patch]
        for method in standard where !allowed.contains(method) {
            on(path, method: method) { request, _ -> Response in
                var error = APIError(
                    .methodNotAllowed, code: .methodNotAllowed,
                    message: "\(request.uri.path.prefix(200)) takes \(takes)")
                error.headers[.allow] = names.joined(separator: ", ")
                throw error
            }
        }
        return self
    }
}
