import CompressNIO
import HavenZstd
import NIOCore

/// Frames the lines of a streamed answer (`application/x-ndjson`) for the wire: as they are, as
/// one gzip stream, or as one zstd frame, flushed after every line.
///
/// One stream rather than a member or frame per line keeps the dictionary across lines, so a
/// download costs the bytes of one compression of everything (BENCHMARKS.md); the flush after
/// each line (a few bytes) lets the client decode and apply a line as soon as it has arrived.
final class LineStreamEncoder {
    /// A content coding the stream can go in, most preferred first.
    enum Coding: String, CaseIterable {
        /// zstd at ``ZstdLineCompressor/level``: on a first sync's 17 MB of lines, 2% fewer bytes
        /// than gzip at zlib's default level for under a third of its CPU, which was half of the
        /// server's (BENCHMARKS.md).
        case zstd
        case gzip
        case identity

        /// What the client's `Accept-Encoding` allows, zstd before gzip. zstd only when named:
        /// `*` stands for gzip, which every HTTP client decodes.
        static func chosen(by acceptEncoding: String?) -> Coding {
            if ContentCoding.accepts("zstd", in: acceptEncoding, star: false) { return .zstd }
            if ContentCoding.accepts("gzip", in: acceptEncoding, star: true) { return .gzip }
            return .identity
        }
    }

    private enum Compressor {
        case none
        case gzip(ZlibCompressor)
        case zstd(ZstdLineCompressor)
    }

    private let compressor: Compressor

    init(_ coding: Coding) throws {
        switch coding {
        case .identity: compressor = .none
        case .gzip: compressor = .gzip(try ZlibCompressor(algorithm: .gzip))
        case .zstd: compressor = .zstd(try ZstdLineCompressor())
        }
    }

    /// `json` and a newline, ready to send.
    func line(_ json: [UInt8]) throws -> ByteBuffer {
        switch compressor {
        case .none:
            var plain = ByteBuffer(bytes: json)
            plain.writeInteger(UInt8(ascii: "\n"))
            return plain
        case .gzip(let zlib):
            var plain = ByteBuffer(bytes: json)
            plain.writeInteger(UInt8(ascii: "\n"))
            return try Self.deflate(&plain, with: zlib, flush: .sync)
        case .zstd(let zstd):
            return try zstd.line(json)
        }
    }

    /// What ends the stream: gzip's trailer, zstd's last block and checksum, or nothing.
    func finish() throws -> ByteBuffer {
        switch compressor {
        case .none:
            return ByteBuffer()
        case .gzip(let zlib):
            var empty = ByteBuffer()
            return try Self.deflate(&empty, with: zlib, flush: .finish)
        case .zstd(let zstd):
            return try zstd.finish()
        }
    }

    private static func deflate(_ plain: inout ByteBuffer, with compressor: ZlibCompressor, flush: CompressNIOFlush) throws
        -> ByteBuffer
    {
        var out = ByteBuffer()
        out.reserveCapacity(compressor.maxSize(from: plain) + 64)
        while true {
            do {
                try compressor.deflate(from: &plain, to: &out, flush: flush)
                return out
            } catch let error as CompressNIOError where error == .bufferOverflow {
                // More output than deflateBound said (the trailer, a flush marker): make room.
                out.reserveCapacity(minimumWritableBytes: 4096)
            }
        }
    }
}

/// One zstd frame over a whole stream, flushed after each line.
final class ZstdLineCompressor {
    /// zstd's level 3 (its default): on a first sync's lines, levels 4 and 5 saved 0.4% and 3%
    /// more bytes for 1.0× and 1.6× the CPU (measured with libzstd 1.5.4).
    static let level: Int32 = 3
    /// A 512 KiB window: 2 MiB of compressor per stream, against 3.5 MiB for 1% fewer bytes at
    /// 2 MiB. Within the 8 MiB a client must accept for HTTP (RFC 8878, section 3.1.1.1.2).
    static let windowLog: Int32 = 19

    private let zstd: ZstdCompressor

    init() throws {
        zstd = try ZstdCompressor(level: Self.level, windowLog: Self.windowLog)
    }

    /// `json` and a newline, compressed and flushed: one block a line.
    func line(_ json: [UInt8]) throws -> ByteBuffer {
        var out = ByteBuffer()
        try json.withUnsafeBytes { bytes in try zstd.compress(bytes, into: &out, ending: .none) }
        try withUnsafeBytes(of: UInt8(ascii: "\n")) { newline in try zstd.compress(newline, into: &out, ending: .flush) }
        return out
    }

    /// The frame's end: its last block and checksum.
    func finish() throws -> ByteBuffer {
        var out = ByteBuffer()
        try zstd.compress(UnsafeRawBufferPointer(start: nil, count: 0), into: &out, ending: .frame)
        return out
    }
}

/// Reading `Accept-Encoding` (RFC 9110, section 12.5.3).
enum ContentCoding {
    /// Whether `header` allows `coding`, named or (when `star`) as `*`, without `q=0`.
    static func accepts(_ coding: String, in header: String?, star: Bool) -> Bool {
        guard let header else { return false }
        return header.lowercased().split(separator: ",").contains { item in
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.first == coding || (star && parts.first == "*") else { return false }
            let quality = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) }
            return (quality ?? 1) > 0
        }
    }
}
