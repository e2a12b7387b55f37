import HavenCore
import Hummingbird

/// `GET /v1/me`: the caller's own name and role, and the limits the server enforces, so that a
/// client can refuse before saving what a push would be refused for. Every role may ask; the
/// answer is about the caller alone (no token id, nothing about other accounts).
struct AccountController {
    let configuration: ServerConfiguration

    func addRoutes(to group: RouterGroup<HavenRequestContext>) {
        group.get("me", use: me)
        // Behind the group's authentication: 401 comes before 405.
        group.refuseOtherMethods(on: "me", allowing: [.get])
    }

    func me(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        return jsonResponse(Account(name: caller.name, role: caller.role, limits: configuration.limits, review: configuration.review))
    }
}
