import CompressNIO
import Foundation
import NIOCore

/// gzip for request bodies (and for tests that read them), over the zlib that CompressNIO links.
///
/// Responses need no such help: URLSession inflates them itself (libcurl on Linux, CFNetwork on
/// Apple platforms) whatever `Accept-Encoding` the request carried.
enum Gzip {
    /// `data` gzipped.
    static func compress(_ data: Data) throws -> Data {
        var buffer = ByteBuffer(bytes: data)
        let compressed = try buffer.compress(with: .gzip())
        return Data(compressed.readableBytesView)
    }

    /// `data` inflated, refusing to produce more than `maxSize` bytes.
    static func decompress(_ data: Data, maxSize: Int = 64 << 20) throws -> Data {
        var buffer = ByteBuffer(bytes: data)
        let inflated = try buffer.decompress(with: .gzip(), maxSize: maxSize)
        return Data(inflated.readableBytesView)
    }

    /// Whether `data` starts with gzip's magic number.
    static func isCompressed(_ data: Data) -> Bool {
        data.starts(with: [0x1f, 0x8b])
    }
}
