import Foundation
import HavenCore

/// What `haven init` and `haven login` check before saving anything, with `GET /v1/me`: the
/// server is reachable, it is a Haven server (not another HTTP service at that address), and it
/// takes the token. A failure says which of the three failed and names the address, so a wrong
/// port or path fails there, not at the first sync.
enum ServerCheck {
    /// The token's account on `server`, once all three checks pass.
    ///
    /// - Throws: ``ClientError`` saying which check failed; a changed pinned key as
    ///   ``ClientError/keyChanged(pinned:found:)``.
    static func account(at server: URL, token: String, transport: any HTTPTransport, timeout: Double = 30)
        async throws -> Account
    {
        var api = ServerAPI(server: server, token: token, transport: transport)
        api.timeout = timeout
        do {
            return try await api.me()
        } catch let error as ServerError {
            throw ClientError(refusal(error, server: server))
        } catch let error as ServerAPI.UnreadableAnswer {
            throw notHaven(server, because: "its answer to /v1/me is not a Haven account (\(error.reason))")
        } catch let error as ProtocolViolation {
            throw notHaven(server, because: "\(error)")
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError(
                "cannot reach the server: \(describeFailure(error, server: server)); nothing was saved", code: .unreachable)
        }
    }

    /// The words for an error answer to `/v1/me`.
    private static func refusal(_ error: ServerError, server: URL) -> String {
        let address = server.absoluteString
        guard error.isHavenError else {
            return notHaven(server, because: "it answered /v1/me with HTTP \(error.status), not a Haven answer").message
        }
        let hasPath = !server.path.isEmpty && server.path != "/"
        if error.status == 401 || error.detail.code == .tooManyAttempts {
            return "\(address) is a Haven server, but it refused the token (\(error.detail.code)): the token is "
                + "unknown, expired or revoked, or mistyped; ask an admin for a new one. Nothing was saved"
        }
        switch error.status {
        case 404 where hasPath, 405 where hasPath:
            return "\(address) reaches a Haven server, but not at its root: give the address without the path "
                + "\(server.path), such as \(root(of: server)). Nothing was saved"
        case 404, 405:
            return "the Haven server at \(address) does not know /v1/me: it is older than this haven; ask its admin to "
                + "update haven-server. Nothing was saved"
        default:
            return "\(address) answered /v1/me with \(error.status): \(error.detail.message) (\(error.detail.code)). "
                + "Nothing was saved"
        }
    }

    private static func notHaven(_ server: URL, because reason: String) -> ClientError {
        ClientError(
            "\(server.absoluteString) answers, but is not a Haven server: \(reason). Check the address and the port "
                + "(haven-server prints them: 'haven-server listening on …'); nothing was saved")
    }

    /// `server` without its path, query and fragment.
    private static func root(of server: URL) -> String {
        var components = URLComponents(url: server, resolvingAgainstBaseURL: false)
        components?.path = ""
        components?.query = nil
        components?.fragment = nil
        return components?.string ?? server.absoluteString
    }
}
