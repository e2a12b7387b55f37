import Foundation
import HavenCore
import Hummingbird
import HTTPTypes
import Logging

/// Turns every error into the JSON error shape, adds the server's clock and protocol version
/// (``ProtocolVersion/current``) to every response, and
/// logs one line per request with its id, route pattern, status and duration: never paths,
/// queries, bodies or tokens.
struct ErrorAndClockMiddleware: RouterMiddleware {
    typealias Context = HavenRequestContext
    let clock: HybridLogicalClock.WallClock

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
            response = try Self.apiError(for: error.status, request: request)
                .response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            response = try APIError(.internalServerError, code: .internal, message: "internal error")
                .response(from: request, context: context)
        }
        response.headers[.serverTime] = String(clock())
        response.headers[.havenProtocol] = String(ProtocolVersion.current)
        // A HEAD answer has headers only; a body would be read as the start of the next response.
        if request.method == .head { response = response.createHeadResponse() }
        context.logger.info(
            "request",
            metadata: [
                "method": "\(request.method)", "route": "\(context.route)", "status": "\(response.status.code)",
                "ms": "\(Int((ContinuousClock.now - started) / .milliseconds(1)))",
            ])
        return response
    }

    /// The JSON error for a status that Hummingbird raised itself (no route, body too large…).
    static func apiError(for status: HTTPResponse.Status, request: Request) -> APIError {
        switch status {
        case .notFound:
            APIError(
                .notFound, code: .notFound, message: "no route for \(request.method) \(request.uri.path.prefix(200))")
        case .methodNotAllowed: APIError(.methodNotAllowed, code: .methodNotAllowed, message: "method not allowed")
        case .contentTooLarge: APIError(.contentTooLarge, code: .tooLarge, message: "request body too large")
        default: APIError(status, code: ErrorCode(rawValue: "http_\(status.code)"), message: status.reasonPhrase)
        }
    }
}

/// Looks the bearer token up and puts the caller in the context; 401 otherwise.
///
/// A valid token always passes, whatever else comes from its address: one device guessing (or
/// misconfigured) behind an office's or a carrier's NAT never locks out the others. Failed
/// attempts are counted per client address, and an address with too many gets 429
/// `too_many_attempts` with `Retry-After` instead of 401 on every request that fails until its
/// block has passed (see ``FailedAuthThrottle``). Tokens are never logged.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = HavenRequestContext
    let tokens: any TokenStore
    let clock: HybridLogicalClock.WallClock
    /// Shared by every copy of this middleware, so `/v1` and `/metrics` count together.
    let throttle: FailedAuthThrottle
    /// The header a trusted reverse proxy puts the client's address in, if any.
    let addressHeader: HTTPField.Name?

    init(tokens: any TokenStore, configuration: ServerConfiguration, clock: @escaping HybridLogicalClock.WallClock) {
        self.tokens = tokens
        self.clock = clock
        self.throttle = FailedAuthThrottle(limit: configuration.failedAuthLimit, window: configuration.failedAuthWindow)
        self.addressHeader = configuration.clientAddressHeader.flatMap { HTTPField.Name($0) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var context = context
        context.caller = try await authenticate(request.headers[.authorization], of: request, context: context)
        return try await next(request, context)
    }

    /// The caller of an `Authorization` value sent with `request`, counting a failure against its
    /// address: what every route behind this middleware runs, and what the console's sign-in runs
    /// with the token typed into its form.
    ///
    /// - Throws: ``APIError`` 401 `unauthorized`, or 429 `too_many_attempts` while the address is blocked.
    func authenticate(_ header: String?, of request: Request, context: Context) async throws -> Caller {
        let now = clock()
        if let header, let caller = try await tokens.caller(forAuthorization: header, now: now) {
            return caller
        }
        let address = clientAddress(of: request, context: context)
        if let wait = throttle.retryAfter(for: address, now: now) {
            let seconds = (wait + 999) / 1000
            var error = APIError(
                .tooManyRequests, code: .tooManyAttempts,
                message: "Authorization: token not accepted, and too many failed attempts from this address; "
                    + "retry in \(seconds) s")
            error.headers[.retryAfter] = String(seconds)
            throw error
        }
        // No header guesses nothing, so it is not counted.
        if header != nil, throttle.recordFailure(from: address, now: now) {
            context.logger.notice("too many failed authentications", metadata: ["address": "\(address)"])
        }
        throw APIError.unauthorized
    }

    /// The key failed attempts are counted under: from the trusted proxy's header when one is
    /// configured and carries an IP address, from the socket otherwise.
    private func clientAddress(of request: Request, context: Context) -> String {
        if let addressHeader, let value = request.headers[addressHeader],
            let key = ClientAddress.key(forwarded: value)
        {
            return key
        }
        return ClientAddress.key(for: context.remoteAddress) ?? ClientAddress.unknown
    }
}

extension HTTPField.Name {
    /// The server's clock in milliseconds since 1970, on every response.
    static let serverTime = Self("X-Haven-Server-Time")!
}
