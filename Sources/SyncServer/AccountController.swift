import Crypto
import Foundation
import HavenCore
import HTTPTypes
import Hummingbird

/// `GET /v1/me`: the caller's own name and role, and the limits the server enforces, so that a
/// client can refuse before saving what a push would be refused for. Every role may ask; the
/// answer is about the caller alone (no token id, nothing about other accounts).
struct AccountController {
    let configuration: ServerConfiguration
    let fingerprints: AccountFingerprints

    init(configuration: ServerConfiguration) {
        self.configuration = configuration
        fingerprints = AccountFingerprints(configuration)
    }

    func addRoutes(to group: RouterGroup<HavenRequestContext>) {
        group.get("me", use: me)
        // Behind the group's authentication: 401 comes before 405.
        group.refuseOtherMethods(on: "me", allowing: [.get])
    }

    func me(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        return jsonResponse(
            Account(
                name: caller.name, role: caller.role, limits: configuration.limits, review: configuration.review,
                fingerprint: fingerprints.of(caller)))
    }
}

/// The fingerprint of each caller's `GET /v1/me` answer: the first 8 bytes, in hex, of the
/// SHA-256 of what every token's answer shares (the limits and the review policy, as JSON, fixed
/// while the server runs: encoded once), the role and the name. It changes with any of them.
struct AccountFingerprints: Sendable {
    private let shared: [UInt8]

    init(_ configuration: ServerConfiguration) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let settings = Account(name: "", role: .reader, limits: configuration.limits, review: configuration.review)
        shared = Array((try? encoder.encode(settings)) ?? Data())
    }

    func of(_ caller: Caller) -> String {
        var hasher = SHA256()
        hasher.update(data: shared)
        hasher.update(data: [0] + Array(caller.role.rawValue.utf8) + [0] + Array(caller.name.utf8))
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        for byte in hasher.finalize().prefix(8) { hex += [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]] }
        return String(decoding: hex, as: UTF8.self)
    }
}

/// Puts the caller's account fingerprint (``AccountFingerprints``) on every answer under `/v1`
/// as `Haven-Account`, so that a client asks `GET /v1/me` only when it differs from the one it
/// holds: on a slow link that request was a round trip at the end of every sync, and half of
/// the bytes of a poll that found nothing new.
struct AccountFingerprintMiddleware: RouterMiddleware {
    typealias Context = HavenRequestContext
    let fingerprints: AccountFingerprints

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var response = try await next(request, context)
        if let caller = context.caller { response.headers[.havenAccount] = fingerprints.of(caller) }
        return response
    }
}

extension HTTPField.Name {
    /// The caller's account fingerprint, on every answer under `/v1`.
    static let havenAccount = Self(Account.fingerprintHeader)!
}
