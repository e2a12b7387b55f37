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

    func addRoutes(to group: RouterGroup<HavenRequestContext>) {
        group.get("me", use: me)
        // Behind the group's authentication: 401 comes before 405.
        group.refuseOtherMethods(on: "me", allowing: [.get])
    }

    func me(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        return jsonResponse(Self.account(of: caller, configuration))
    }

    /// What `GET /v1/me` tells `caller`, with its fingerprint.
    static func account(of caller: Caller, _ configuration: ServerConfiguration) -> Account {
        var account = Account(name: caller.name, role: caller.role, limits: configuration.limits, review: configuration.review)
        account.fingerprint = fingerprint(of: account)
        return account
    }

    /// The first 8 bytes of the SHA-256 of the account's JSON (keys sorted), in hex: it changes
    /// with the name, the role, a limit or the review policy.
    static func fingerprint(of account: Account) -> String {
        var account = account
        account.fingerprint = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = (try? encoder.encode(account)) ?? Data()
        return SHA256.hash(data: json).prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}

/// Puts the caller's account fingerprint (``AccountController/fingerprint(of:)``) on every
/// answer under `/v1` as `Haven-Account`, so that a client asks `GET /v1/me` only when it
/// differs from the one it holds: on a slow link that request was a round trip at the end of
/// every sync, and half of the bytes of a poll that found nothing new.
struct AccountFingerprintMiddleware: RouterMiddleware {
    typealias Context = HavenRequestContext
    let configuration: ServerConfiguration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var response = try await next(request, context)
        if let caller = context.caller {
            response.headers[.havenAccount] = AccountController.account(of: caller, configuration).fingerprint
        }
        return response
    }
}

extension HTTPField.Name {
    /// The caller's account fingerprint, on every answer under `/v1`.
    static let havenAccount = Self(Account.fingerprintHeader)!
}
