import CompressNIO
import Foundation
import HavenCore
import HavenZstd
import NIOCore

/// gzip for request bodies and answers, over the zlib that CompressNIO links.
enum Gzip {
    /// Why a body could not be inflated within its bound.
    enum Failure: Error {
        /// It inflates to more than the bound allowed.
        case tooLarge
    }

    /// `data` gzipped at zlib's fastest level: a quarter larger than at its default level, six
    /// times faster. Publishing 10,000 records spent more time compressing its pushes at the
    /// default level than the server spent taking them (BENCHMARKS.md, publish).
    static func compress(_ data: Data) throws -> Data {
        var buffer = ByteBuffer(bytes: data)
        let compressed = try buffer.compress(with: .gzip(configuration: .init(compressionLevel: .fastestCompression)))
        return Data(compressed.readableBytesView)
    }

    /// `data` inflated, refusing to produce more than `maxSize` bytes: it stops there, never
    /// holding more.
    ///
    /// - Throws: ``Failure/tooLarge`` past `maxSize`; CompressNIO's error when `data` is not gzip.
    static func decompress(_ data: Data, maxSize: Int = ProtocolLimits.answerBytes) throws -> Data {
        var buffer = ByteBuffer(bytes: data)
        do {
            let inflated = try buffer.decompress(with: .gzip(), maxSize: maxSize)
            return Data(inflated.readableBytesView)
        } catch let error as CompressNIOError where error == .bufferOverflow {
            throw Failure.tooLarge
        }
    }

    /// Whether `data` starts with gzip's magic number.
    static func isCompressed(_ data: Data) -> Bool {
        data.starts(with: [0x1f, 0x8b])
    }
}

/// Inflates a streamed body as it arrives, as its `Content-Encoding` says (gzip, or zstd for a
/// stream that asked for it), handing on pieces of at most ``window`` bytes: a small body that
/// inflates to gigabytes never sits in memory whole.
final class BodyInflater {
    /// The most bytes handed on at once.
    static let window = 64 << 10
    /// The largest zstd window a stream may ask for: 2^23 bytes, 8 MiB, what HTTP clients must
    /// decode (RFC 8878, section 3.1.1.1.2). A hostile server's frame asking for more is refused
    /// instead of taking up to 2 GiB of this device's memory.
    static let zstdWindowLogMax: Int32 = 23
    private enum Decoder {
        case none
        case gzip(ZlibDecompressor)
        case zstd(ZstdDecompressor)
    }
    private let decoder: Decoder
    private let encoding: String

    /// - Throws: ``ProtocolViolation/unknownEncoding(_:)`` for an encoding other than gzip, zstd or none.
    init(encoding: String?) throws {
        let name = encoding?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        self.encoding = name
        switch name {
        case "", "identity": decoder = .none
        case "gzip", "x-gzip": decoder = .gzip(try ZlibDecompressor(algorithm: .gzip))
        case "zstd": decoder = .zstd(try ZstdDecompressor(windowLogMax: Self.zstdWindowLogMax))
        default: throw ProtocolViolation.unknownEncoding(name)
        }
    }

    /// `wire` inflated, handed to `emit` piece by piece; the first piece carries `wire`'s size.
    func inflate(_ wire: ByteBuffer, emit: (HTTPBodyPiece) async throws -> Void) async throws {
        var wireBytes = wire.readableBytes
        var input = wire
        while true {
            let piece: ByteBuffer
            let done: Bool
            switch decoder {
            case .none:
                return try await emit(HTTPBodyPiece(bytes: Data(wire.readableBytesView), wireBytes: wireBytes))
            case .gzip(let zlib):
                (piece, done) = try inflate(&input, with: zlib)
            case .zstd(let zstd):
                do {
                    (piece, done) = try zstd.decompress(&input, atMost: Self.window)
                } catch let failure as ZstdError where failure.isWindowTooLarge {
                    throw ProtocolViolation.zstdWindowTooLarge(limit: 1 << Self.zstdWindowLogMax)
                } catch {
                    throw ProtocolViolation.undecodable(encoding: encoding)
                }
            }
            if piece.readableBytes > 0 || wireBytes > 0 {
                try await emit(HTTPBodyPiece(bytes: Data(piece.readableBytesView), wireBytes: wireBytes))
                wireBytes = 0
            }
            if done { return }
        }
    }

    /// Up to ``window`` bytes of `input` inflated, and whether `input` has given all it can.
    private func inflate(_ input: inout ByteBuffer, with decompressor: ZlibDecompressor) throws -> (ByteBuffer, done: Bool) {
        var output = ByteBuffer()
        output.reserveCapacity(Self.window)
        let before = input.readableBytes
        var needsInput = false
        do {
            try decompressor.inflate(from: &input, to: &output)
        } catch let error as CompressNIOError where error == .bufferOverflow {
            // The window is full: hand it on and go on with the rest.
        } catch let error as CompressNIOError where error == .inputBufferOverflow {
            needsInput = true
        } catch {
            throw ProtocolViolation.undecodable(encoding: encoding)
        }
        if needsInput || input.readableBytes == 0 { return (output, true) }
        // Bytes after the end of the gzip stream: nothing more can come of them.
        if input.readableBytes == before, output.readableBytes == 0 {
            throw ProtocolViolation.undecodable(encoding: encoding)
        }
        return (output, false)
    }
}
