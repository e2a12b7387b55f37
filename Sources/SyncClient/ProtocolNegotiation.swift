import Foundation
import HavenCore
import Synchronization

/// Speaks the newest protocol version both ends know (``ProtocolVersion``): every request goes
/// out in this client's version until a server says it speaks only an older one.
///
/// A server older than the client refuses the newer version with 400 `invalid_header` and states
/// its own in `Haven-Protocol`; the request is then sent once more in that version, and the
/// requests after it start there. So a device updated before its server keeps syncing: version
/// 2 only lets pull answers share a record's stamp, which this client reads in either form. A
/// version older than this client still speaks is not taken: the refusal stands.
final class ProtocolNegotiation: HTTPTransport {
    private let transport: any HTTPTransport
    private let version = Mutex(ProtocolVersion.current)

    init(over transport: any HTTPTransport) {
        self.transport = transport
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await negotiated(request) { try await transport.send($0) }
    }

    func stream(_ request: HTTPRequest, receive: (HTTPBodyPiece) async throws -> Void) async throws -> HTTPResponse {
        try await negotiated(request) { try await transport.stream($0, receive: receive) }
    }

    private func negotiated(_ request: HTTPRequest, _ exchange: (HTTPRequest) async throws -> HTTPResponse) async throws
        -> HTTPResponse
    {
        var request = request
        let speaking = version.withLock { $0 }
        request.headers[ProtocolVersion.headerName] = String(speaking)
        let response = try await exchange(request)
        guard let older = Self.olderVersion(in: response, than: speaking) else { return response }
        version.withLock { $0 = min($0, older) }
        request.headers[ProtocolVersion.headerName] = String(older)
        return try await exchange(request)
    }

    /// The older version a server that refused `speaking` as too new states it speaks, if any.
    static func olderVersion(in response: HTTPResponse, than speaking: Int) -> Int? {
        guard response.status == 400,
            let stated = response.header(ProtocolVersion.headerName).flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }),
            (ProtocolVersion.oldestSpoken..<speaking).contains(stated),
            (try? JSONDecoder().decode(ErrorBody.self, from: response.body))?.error.code == .invalidHeader
        else { return nil }
        return stated
    }
}
