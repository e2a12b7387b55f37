import CompressNIO
import NIOCore

/// Frames the lines of a streamed answer (`application/x-ndjson`) for the wire: as they are, or
/// as one gzip stream flushed after every line.
///
/// One stream rather than a gzip member per line keeps the dictionary across lines, so a
/// download costs the bytes of one gzip of everything (BENCHMARKS.md); the sync flush after each
/// line (five bytes) lets the client inflate and apply a line as soon as it has arrived.
final class LineStreamEncoder {
    private let compressor: ZlibCompressor?

    /// An encoder that gzips when `gzip` is true.
    init(gzip: Bool) throws {
        compressor = gzip ? try ZlibCompressor(algorithm: .gzip) : nil
    }

    /// `json` and a newline, ready to send.
    func line(_ json: [UInt8]) throws -> ByteBuffer {
        var plain = ByteBuffer(bytes: json)
        plain.writeInteger(UInt8(ascii: "\n"))
        return try deflate(&plain, flush: .sync)
    }

    /// What ends the stream: gzip's trailer, or nothing.
    func finish() throws -> ByteBuffer {
        var empty = ByteBuffer()
        return try deflate(&empty, flush: .finish)
    }

    private func deflate(_ plain: inout ByteBuffer, flush: CompressNIOFlush) throws -> ByteBuffer {
        guard let compressor else { return plain }
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
