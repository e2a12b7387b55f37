import AsyncHTTPClient
import Foundation
import HavenCore
import Synchronization

extension ServerAPI {
    /// `GET /v1/changes/stream?since=…[&chunk=…]`: the whole download in one answer, each page
    /// handed to `receive` as soon as its line has arrived whole and been checked
    /// (`PullResponse/validate()`). A line is held to `ProtocolLimits/answerBytes`; nothing
    /// bounds the whole answer, which is a download of everything.
    ///
    /// - Parameters:
    ///   - cursor: where the download starts; nil for the beginning.
    ///   - limit: the most records a page holds; nil for the server's page limit.
    ///   - chunkBytes: the JSON bytes a page should stay near; nil for the server's choice.
    ///   - receive: called with each page, in order; a page is not received twice.
    /// An answer that ends cleanly after a page with `more` has said all it will: the caller
    /// streams again from that page's cursor.
    ///
    /// - Throws: ``StreamCut`` when the answer ends cleanly without a single page;
    ///   ``ServerError`` for an answer other than 2xx (404 from a server without streams);
    ///   AsyncHTTPClient's `readTimeout` when no byte came for ``timeout`` seconds.
    public func pullStream(
        since cursor: SyncCursor?, limit: Int? = nil, chunkBytes: Int? = nil, receive: @escaping @Sendable (PullResponse) async throws -> Void
    ) async throws {
        try await pullStream(since: cursor, limit: limit, chunkBytes: chunkBytes, receiveSized: { page, _ in try await receive(page) })
    }

    /// As ``pullStream(since:limit:chunkBytes:receive:)``, handing each page with the bytes of
    /// its line (JSON, inflated), by which a caller that holds pages bounds its memory (a decoded
    /// page takes a few times its line).
    package func pullStream(
        since cursor: SyncCursor?, limit: Int? = nil, chunkBytes: Int? = nil,
        receiveSized receive: @escaping @Sendable (PullResponse, Int) async throws -> Void
    ) async throws {
        var components = URLComponents(
            url: server.appendingPathComponent("v1/changes/stream"), resolvingAgainstBaseURL: false)!
        var query: [URLQueryItem] = []
        if let cursor { query.append(URLQueryItem(name: "since", value: cursor.description)) }
        if let limit { query.append(URLQueryItem(name: "limit", value: String(limit))) }
        if let chunkBytes { query.append(URLQueryItem(name: "chunk", value: String(chunkBytes))) }
        components.queryItems = query.isEmpty ? nil : query
        // zstd before gzip: a third of the server's CPU for fewer bytes (BodyInflater decodes
        // either, as the answer says). Only the stream: other answers are small.
        let request = HTTPRequest(
            method: "GET", url: components.url!, headers: Self.headers(["Accept-Encoding": "zstd, gzip"], token: token),
            timeout: timeout)
        let heard = LastHeard()
        // What came off the link, inflated, until its lines are read. The link's reader does
        // nothing else: bytes left in the kernel's buffer while lines are decoded are lost when
        // the connection is reset, and decoding beside the reading made a flaky link send a
        // quarter of a download again (BadLinkTests) once the server sent faster than the
        // client decoded.
        let arrived = PageQueue<Data>(capacity: 4 << 20)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await withThrowingTaskGroup(of: Void.self) { link in
                    link.addTask {
                        do {
                            let response = try await transport.stream(request) { piece in
                                heard.now()
                                traffic.count(sent: 0, received: piece.wireBytes)
                                try await arrived.put(piece.bytes, bytes: piece.bytes.count)
                            }
                            traffic.count(sent: 0, received: Self.wireBytes(of: response))
                            traffic.heard(response)
                            try Self.check(response)
                            await arrived.finish(throwing: nil)
                        } catch {
                            await arrived.finish(throwing: error)
                        }
                    }
                    do {
                        try await Self.readLines(from: arrived, receive: receive, pageReceived: pageReceived)
                    } catch {
                        await arrived.close()  // The link's reader, waiting to put, stops.
                        throw error
                    }
                }
            }
            // Nothing heard for `timeout` seconds: the link is gone, whatever TCP believes.
            group.addTask { [timeout] in
                let limit = Duration.milliseconds(Int64(timeout * 1000))
                while true {
                    let deadline = heard.instant + limit
                    guard deadline > .now else { throw HTTPClientError.readTimeout }
                    try await Task.sleep(until: deadline)
                }
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Cuts what arrives into lines, each decoded, checked and received as a page; the link's
    /// error, if any, once every line before it has been received.
    private static func readLines(
        from arrived: PageQueue<Data>, receive: @Sendable (PullResponse, Int) async throws -> Void,
        pageReceived: (@Sendable (PullResponse) -> Void)?
    ) async throws {
        var lines = LineSplitter(maxLine: ProtocolLimits.answerBytes)
        var pages = 0
        var ended = false
        func take(_ line: Data) async throws {
            guard !ended else { return }  // Nothing follows the last page.
            let page: PullResponse
            do {
                page = try JSONReader.decode(PullResponse.self, from: line)
            } catch {
                throw UnreadableAnswer(reason: describe(error))
            }
            try page.validate()
            pageReceived?(page)
            ended = !page.more
            pages += 1
            try await receive(page, line.count)
        }
        while let pieces = try await arrived.take() {
            for piece in pieces {
                for line in try lines.append(piece) { try await take(line) }
            }
        }
        // An answer that ended cleanly ends its last line, newline or not.
        if let line = lines.rest() { try await take(line) }
        guard pages > 0 else { throw StreamCut() }
    }
}

/// A streamed pull whose answer ended without a single page: cut by something on the link that
/// closed it as if it were whole. Pulling again either goes on or gets the reason as an answer.
public struct StreamCut: Error, Sendable, CustomStringConvertible {
    /// What happened, in the person's language.
    public var description: String {
        Words("the server's answer ended before its first page", korean: "서버의 답이 첫 페이지 전에 끊겼습니다").text
    }
}

/// When the stream last brought bytes, shared by the reader and its watchdog.
final class LastHeard: Sendable {
    private let last = Mutex(ContinuousClock.now)
    var instant: ContinuousClock.Instant { last.withLock { $0 } }
    func now() { last.withLock { $0 = .now } }
}

/// Cuts a byte stream into lines, holding each to a bound while it is incomplete.
struct LineSplitter {
    let maxLine: Int
    private var partial = Data()

    init(maxLine: Int) {
        self.maxLine = maxLine
    }

    /// The lines `bytes` completes, without their newlines; empty lines are skipped.
    mutating func append(_ bytes: Data) throws -> [Data] {
        var lines: [Data] = []
        let newlines: [Int] = bytes.withUnsafeBytes { raw in
            // memchr: a byte-by-byte search through Data's indices was a seventh of a sync's CPU.
            var found: [Int] = []
            guard let base = raw.baseAddress else { return found }
            var offset = 0
            while offset < raw.count, let hit = memchr(base + offset, 0x0A, raw.count - offset) {
                let index = base.distance(to: UnsafeRawPointer(hit))
                found.append(index)
                offset = index + 1
            }
            return found
        }
        var start = 0
        for newline in newlines {
            var line = partial
            partial = Data()
            line.append(bytes[bytes.startIndex + start..<bytes.startIndex + newline])
            guard line.count <= maxLine else { throw ProtocolViolation.lineTooLarge(limit: maxLine) }
            if !line.isEmpty { lines.append(line) }
            start = newline + 1
        }
        partial.append(bytes[(bytes.startIndex + start)...])
        guard partial.count <= maxLine else { throw ProtocolViolation.lineTooLarge(limit: maxLine) }
        return lines
    }

    /// What is left after the last newline, if anything: at the end of the stream, its last line.
    mutating func rest() -> Data? {
        defer { partial = Data() }
        return partial.isEmpty ? nil : partial
    }
}
