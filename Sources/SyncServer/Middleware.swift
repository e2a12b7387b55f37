import Foundation
import HavenCore
import Hummingbird
import HTTPTypes
import Logging

/// Turns every error into the JSON error shape, adds the server's clock to every response, and
/// logs one line per request with its id, route and status: never bodies or tokens.
struct ErrorAndClockMiddleware: RouterMiddleware {
    typealias Context = HavenRequestContext
    let clock: @Sendable () -> UInt64

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let started = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            response = try error.response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            response = try Self.apiError(for: error.status).response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            response = try APIError(.internalServerError, code: "internal", message: "internal error")
                .response(from: request, context: context)
        }
        response.headers[.serverTime] = String(clock())
        context.logger.info(
            "request",
            metadata: [
                "method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(response.status.code)",
                "ms": "\((ContinuousClock.now - started).components.attoseconds / 1_000_000_000_000_000)"
            ])
        return response
    }

    /// The JSON error for a status that Hummingbird raised itself (no route, body too large…).
    static func apiError(for status: HTTPResponse.Status) -> APIError {
        switch status {
        case .notFound: APIError(.notFound, code: "not_found", message: "no such route")
        case .methodNotAllowed: APIError(.methodNotAllowed, code: "method_not_allowed", message: "method not allowed")
        case .contentTooLarge: APIError(.contentTooLarge, code: "too_large", message: "request body too large")
        default: APIError(status, code: "http_\(status.code)", message: status.reasonPhrase)
        }
    }
}

/// Looks the bearer token up and puts the caller in the context; 401 otherwise.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = HavenRequestContext
    let store: any SyncStore
    let clock: @Sendable () -> UInt64

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        // The scheme name is case-insensitive (RFC 9110 §11.1).
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw APIError.unauthorized
        }
        let secret = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard !secret.isEmpty, secret.count <= 200,
            let caller = try await store.caller(forTokenHash: TokenSecret.hash(secret), now: clock())
        else { throw APIError.unauthorized }
        var context = context
        context.caller = caller
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    /// The server's clock in milliseconds since 1970, on every response.
    static let serverTime = Self("X-Haven-Server-Time")!
}
