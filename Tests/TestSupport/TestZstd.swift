import Foundation
import HavenZstd
import NIOCore

/// zstd frames made to order and read whole, for tests that check the stream's zstd coding or
/// play a hostile server.
package enum TestZstd {
    /// `data` as one zstd frame at `level`, its window 2^`windowLog` bytes, with a checksum.
    package static func compress(_ data: Data, level: Int32 = 3, windowLog: Int32 = 19) -> Data {
        var out = ByteBuffer()
        try! data.withUnsafeBytes { bytes in
            try ZstdCompressor(level: level, windowLog: windowLog).compress(bytes, into: &out, ending: .frame)
        }
        return Data(out.readableBytesView)
    }

    /// What `data`'s frames decode to, or nil when they do not decode whole.
    package static func decompress(_ data: Data) -> Data? {
        // zstd's own default limit: these frames are the test's, not a hostile server's.
        guard let decompressor = try? ZstdDecompressor(windowLogMax: 27) else { return nil }
        var input = ByteBuffer(bytes: data)
        var decoded = Data()
        while true {
            guard let (piece, done) = try? decompressor.decompress(&input, atMost: 1 << 16) else { return nil }
            decoded.append(contentsOf: piece.readableBytesView)
            if done { return decompressor.isAtFrameEnd ? decoded : nil }
        }
    }
}
