import HavenCore
import Hummingbird

/// `GET /v1/records/{id}/history`: every change of one record still in the log (editors and admins).
struct HistoryController {
    let log: ChangeLog

    func addRoutes(to group: RouterGroup<HavenRequestContext>) {
        group.get("records/:id/history", use: history)
        group.refuseOtherMethods(on: "records/:id/history", allowing: [.get])
    }

    func history(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = context.parameters.get("id") ?? ""
        guard RecordID.isValid(id) else {
            throw APIError.badRequest(.invalidRecord, "id: '\(id.prefix(40))' is not a lowercase UUID")
        }
        do {
            return jsonResponse(try await log.history(of: id, for: caller))
        } catch HistoryRefusal.forbidden {
            throw APIError.forbidden("record histories are for editors and admins; a \(caller.role.rawValue) token cannot read them")
        } catch HistoryRefusal.noSuchRecord {
            throw APIError(.notFound, code: .recordNotFound, message: "no record \(id) on this server")
        }
    }
}
