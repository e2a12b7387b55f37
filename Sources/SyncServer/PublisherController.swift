import HavenCore
import HavenTrust
import Hummingbird

/// `GET /v1/publisher`: the publisher's signing keys, oldest first, each endorsed by the one
/// before it (``PublisherKeys``); any token may read them. A client pins one key at `haven init`
/// and follows the chain when a signature names a newer key.
struct PublisherController {
    let store: any SigningKeyStore

    func addRoutes(to group: RouterGroup<HavenRequestContext>) {
        group.get("publisher", use: publisher)
        group.refuseOtherMethods(on: "publisher", allowing: [.get])
    }

    func publisher(_ request: Request, context: HavenRequestContext) async throws -> Response {
        _ = try context.requireCaller()
        let keys = try await store.signingKeys()
        return jsonResponse(PublisherKeys(keys: keys.map { $0.key.publicKey.entry(endorsement: $0.endorsement) }))
    }
}
