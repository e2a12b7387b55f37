import Foundation
import TestSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A bare TCP connection to a loopback port, for what URLSession cannot do: send half a
/// request and finish it later, keep an idle connection open, and tell a refused connection
/// apart from any other failure.
final class RawConnection {
    /// Nothing listens on the port.
    struct Refused: Error {}

    /// The server closed the connection.
    struct Closed: Error {}

    /// One HTTP/1.1 response.
    struct Response {
        var status: Int
        /// Header names lowercased.
        var headers: [String: String]
        var body: Data
    }

    private let descriptor: Int32
    private var buffer = Data()

    /// Connects to `127.0.0.1:port`; reads give up after `timeout` seconds.
    ///
    /// - Throws: ``Refused`` when nothing listens there.
    init(port: Int, timeout: Int = 15) throws {
        #if canImport(Darwin)
            let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #else
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #endif
        guard descriptor >= 0 else { throw ClientFailure("socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result != 0 {
            let code = errno
            close(descriptor)
            if code == ECONNREFUSED { throw Refused() }
            throw ClientFailure("connect() failed: errno \(code)")
        }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Sends all of `data`.
    func write(_ data: Data) throws {
        #if canImport(Darwin)
            let flags: Int32 = 0
        #else
            let flags = Int32(MSG_NOSIGNAL)
        #endif
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = send(descriptor, raw.baseAddress! + offset, raw.count - offset, flags)
                guard sent > 0 else { throw ClientFailure("send() failed: errno \(errno)") }
                offset += sent
            }
        }
    }

    /// Waits until the server has read every byte written so far: the kernel has delivered them
    /// (nothing is left unacknowledged on this side) and the server's process has taken them out
    /// of its socket. A request head read this way is in flight for the server: shutdown waits
    /// for it instead of closing the connection as idle. Observed, not timed: the limit only
    /// stops a hang.
    ///
    /// Reads the kernel's socket table, `/proc/net/tcp` and `tcp6`: Linux only.
    ///
    /// - Throws: ``Closed`` as soon as the server has closed the connection.
    func waitUntilServerHasRead(within limit: TimeInterval = 60) throws {
        let (local, remote) = try ports()
        do {
            try Polling.until("the server reading what was sent", limit: limit) {
                if isClosedByPeer { throw Closed() }
                let sockets = Self.socketQueues()
                guard let mine = sockets[Pair(local: local, remote: remote)],
                    let theirs = sockets[Pair(local: remote, remote: local)]
                else { return false }
                return mine.unacknowledged == 0 && theirs.unread == 0
            }
            return
        } catch is Polling.Failure {
            // Said below, with what the socket table shows.
        }
        let sockets = Self.socketQueues()
        let seen = [Pair(local: local, remote: remote), Pair(local: remote, remote: local)].map { pair in
            sockets[pair].map { "\(pair.local)→\(pair.remote): \($0.unacknowledged) unacknowledged, \($0.unread) unread" }
                ?? "\(pair.local)→\(pair.remote): no established socket"
        }
        throw ClientFailure(
            "the server on port \(remote) did not read what was sent within \(Int(limit)) s (\(seen.joined(separator: "; ")))")
    }

    /// Whether the kernel has seen the server's end of the connection (its FIN or a reset),
    /// without reading: this side's TCP state is no longer ESTABLISHED.
    private var isClosedByPeer: Bool {
        #if canImport(Glibc)
            var info = [UInt8](repeating: 0, count: 256)
            var length = socklen_t(info.count)
            guard getsockopt(descriptor, Int32(IPPROTO_TCP), TCP_INFO, &info, &length) == 0 else { return true }
            return info[0] != 1  // tcpi_state, first, is not TCP_ESTABLISHED
        #else
            return false
        #endif
    }

    /// This connection's local and remote port.
    private func ports() throws -> (local: Int, remote: Int) {
        func port(_ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32) throws -> Int {
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let result = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(descriptor, $0, &length) }
            }
            guard result == 0 else { throw ClientFailure("getsockname/getpeername failed: errno \(errno)") }
            return Int(UInt16(bigEndian: address.sin_port))
        }
        return (try port { getsockname($0, $1, $2) }, try port { getpeername($0, $1, $2) })
    }

    /// A TCP socket named by its ports, as seen from its own side.
    private struct Pair: Hashable {
        var local: Int
        var remote: Int
    }

    /// Bytes waiting in a socket's queues.
    private struct Queues {
        /// Sent and not yet acknowledged by the peer (`tx_queue`).
        var unacknowledged: Int
        /// Received and not yet read by the process (`rx_queue`).
        var unread: Int
    }

    /// Every established TCP socket of this network namespace with its queues, by ports.
    private static func socketQueues() -> [Pair: Queues] {
        var sockets: [Pair: Queues] = [:]
        for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let table = readWhole(file) else { continue }
            // "sl local_address rem_address st tx_queue:rx_queue …", addresses as HEXIP:HEXPORT.
            for line in table.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 4, fields[3] == "01", let local = port(fields[1]), let remote = port(fields[2])
                else { continue }  // 01: ESTABLISHED
                let queues = fields[4].split(separator: ":")
                guard queues.count == 2, let tx = Int(queues[0], radix: 16), let rx = Int(queues[1], radix: 16) else {
                    continue
                }
                sockets[Pair(local: local, remote: remote)] = Queues(unacknowledged: tx, unread: rx)
            }
        }
        return sockets
    }

    /// A /proc file read to its end. (It reports a size of 0, and Foundation's whole-file
    /// read stops short once the table outgrows its first buffer.)
    private static func readWhole(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func port(_ address: Substring) -> Int? {
        address.split(separator: ":").last.flatMap { Int($0, radix: 16) }
    }

    /// Reads one response whose body has a `Content-Length` (or runs to the end of the connection).
    func readResponse() throws -> Response {
        let separator = Data("\r\n\r\n".utf8)
        while buffer.range(of: separator) == nil {
            guard try fill() else { throw ClientFailure("connection closed before a response") }
        }
        let end = buffer.range(of: separator)!
        let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        buffer = Data(buffer[end.upperBound...])
        let statusParts = head[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw ClientFailure("not an HTTP status line: \(head[0])")
        }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        if let length = headers["content-length"].flatMap(Int.init) {
            while buffer.count < length {
                guard try fill() else { throw ClientFailure("connection closed inside a body") }
            }
            let body = Data(buffer.prefix(length))
            buffer = Data(buffer.dropFirst(length))
            return Response(status: status, headers: headers, body: body)
        }
        while try fill() {}
        defer { buffer = Data() }
        return Response(status: status, headers: headers, body: buffer)
    }

    /// Whether the server closes the connection (its end or a reset) before a read times out;
    /// whatever it sent first is read and kept. False when the read times out: the connection
    /// is still open.
    func isClosedByServer() -> Bool {
        do {
            while try fill() {}
            return true
        } catch {
            return false
        }
    }

    /// Reads what has arrived into the buffer; false at the end of the connection.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let count = recv(descriptor, &chunk, chunk.count, 0)
        if count > 0 {
            buffer.append(contentsOf: chunk[..<count])
            return true
        }
        if count == 0 || errno == ECONNRESET { return false }
        throw ClientFailure("recv() failed: errno \(errno)")
    }
}
