import CompressNIO
import Foundation
import HavenCore
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
