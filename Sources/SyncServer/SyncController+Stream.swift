import HavenCore
import Hummingbird

/// `GET /v1/changes/stream`: the whole download in one answer, as pages one after another.
///
/// Rule 1. Each line of the answer (`application/x-ndjson`) is a page exactly as `GET
/// /v1/changes` would answer it from the previous line's cursor: the same visibility, deltas,
/// `removed`, conflicts and, on the last line (no `more`), the signature. A client applies each
/// line with its cursor as it arrives, so a cut costs at most the line under way, with no round
/// trip per page.
///
/// Rule 2. Lines stay near `chunk` bytes of JSON (default ``defaultChunkBytes``, at most the
/// page size) and hold at most `limit` records, as pages do: small enough that a reset re-sends
/// little, large enough to compress well. The records read per line follow the bytes per record
/// seen so far, so the server reads little more than it sends.
///
/// Rule 3. Errors before the first line are answered as the paged pull answers them (400, 410).
/// After it, a failure (the token revoked, the log compacted past the cursor) ends the stream,
/// well-formed, before its last line; the client streams again from the last line it applied
/// and gets the error as an answer of its own.
///
/// Rule 4. Each page is read while the one before is compressed and sent (one after the other,
/// reading and gzip were the whole of a first sync's time on the server), and is sent only if
/// the token still may read once the page before has gone (``sendPages(from:prepare:confirm:send:)``).
extension SyncController {
    /// JSON bytes a line aims at when the client does not say: about 13 KiB gzipped, under half
    /// a second at 32 KiB/s, so that a reset costs little more than its two round trips to
    /// reconnect (96 KiB lines lost 0.4 s a reset more on the slow link, and saved about a tenth
    /// of a first sync over loopback: BENCHMARKS.md).
    static let defaultChunkBytes = 48 << 10
    /// The smallest `chunk` a client may ask for.
    static let minimumChunkBytes = 1 << 10

    func stream(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let query = request.uri.queryParameters
        let since = try Self.since(in: query)
        var chunkBytes = min(Self.defaultChunkBytes, configuration.pageBytes)
        if let text = query["chunk"].map(String.init) {
            guard let value = Int(text), value >= Self.minimumChunkBytes else {
                throw APIError.badRequest(
                    .invalidLimit, "chunk: must be a whole number of bytes, at least \(Self.minimumChunkBytes)")
            }
            chunkBytes = min(value, configuration.pageBytes)
        }
        let sizing = ChunkSizing(bytes: chunkBytes, pageLimit: try limit(in: query))
        let first = try await page(since: since, sizing: sizing, for: caller)
        metrics.activity.count(.pull, at: clock())
        let coding = LineStreamEncoder.Coding.chosen(by: request.headers[.acceptEncoding])
        var headers: HTTPFields = [.contentType: "application/x-ndjson", .vary: "Accept-Encoding"]
        if coding != .identity { headers[.contentEncoding] = coding.rawValue }
        let clock = self.clock
        let version = Self.version(of: request)
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                let encoder = try LineStreamEncoder(coding)
                var sizing = sizing
                let endedEarly = try await Self.sendPages(
                    from: first,
                    prepare: { page in
                        let json = try page.answer(serverTime: clock(), version: version)
                        sizing.record(
                            bytes: json.count, records: page.states.count + page.wholeRecords.count + page.removed.count)
                        guard page.more else { return (json, nil) }
                        return (json, { [log, sizing] in
                            try await log.pull(
                                since: page.cursor, limit: sizing.limit, maxBytes: sizing.bytes, for: caller,
                                remainingBefore: page.remaining)
                        })
                    },
                    // A stream can last minutes on a slow link: a token revoked meanwhile ends it.
                    confirm: { try await confirmCaller(of: request) },
                    send: { json in try await writer.write(try encoder.line(json)) })
                if let endedEarly {
                    // Ended well-formed, before the last page: the client asks again from the
                    // last line and gets the reason as an answer (rule 3).
                    context.logger.info("stream ended early", metadata: ["reason": "\(type(of: endedEarly))"])
                }
                try await writer.write(try encoder.finish())
                try await writer.finish(nil)
            })
    }

    /// Sends `first` and the pages after it, each read while the one before is sent (rule 4).
    /// A page read ahead goes only if `confirm` passes once the page before has gone: a token
    /// revoked while a page is sent ends the stream after it, as when each page was read only
    /// after the one before had gone.
    ///
    /// - Parameters:
    ///   - prepare: a page's line, and how to read the page after it (nil for the last page).
    /// - Returns: why the stream ended before its last page (rule 3), or nil.
    static func sendPages<Page: Sendable, Line>(
        from first: Page,
        prepare: (Page) throws -> (line: Line, readNext: (@Sendable () async throws -> Page)?),
        confirm: () async throws -> Void,
        send: (Line) async throws -> Void
    ) async throws -> (any Error)? {
        var page = first
        while true {
            let (line, readNext) = try prepare(page)
            guard let readNext else {
                try await send(line)
                return nil
            }
            async let next = Result(awaiting: readNext)
            try await send(line)
            do {
                let read = try await next.get()
                try await confirm()
                page = read
            } catch {
                return error
            }
        }
    }

    /// The first line's page, read before the answer starts so that its errors are answers (rule 3).
    private func page(since: SyncCursor?, sizing: ChunkSizing, for caller: Caller) async throws -> PullPage {
        do {
            return try await log.pull(since: since, limit: sizing.limit, maxBytes: sizing.bytes, for: caller)
        } catch let expired as CursorExpired {
            throw APIError.gone(expired)
        }
    }
}

/// How many records to read for the next line of a stream (rule 2).
struct ChunkSizing {
    /// JSON bytes a line aims at.
    let bytes: Int
    let pageLimit: Int
    private var seenBytes = 0
    private var seenRecords = 0

    init(bytes: Int, pageLimit: Int) {
        self.bytes = bytes
        self.pageLimit = pageLimit
    }

    /// A quarter more than the bytes per record so far say fits: a line is seldom cut short by
    /// count, and few records are read and decoded only to be left for the next line (twice as
    /// many cost a third of the server's CPU in a first sync). Before any record, as if records
    /// were 512 bytes.
    var limit: Int {
        let perRecord = seenRecords > 0 ? max(1, seenBytes / seenRecords) : 512
        return max(1, min(pageLimit, 5 * bytes / (4 * perRecord)))
    }

    mutating func record(bytes: Int, records: Int) {
        seenBytes += bytes
        seenRecords += records
    }
}

extension Result where Failure == any Error {
    /// The value `body` returns, or the error it throws.
    init(awaiting body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
