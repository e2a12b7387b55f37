import CZstd
import Foundation

/// zstd frames made and read in one piece, for tests that check the stream's zstd coding or
/// play a hostile server.
package enum TestZstd {
    /// `data` as one zstd frame at `level`, its window 2^`windowLog` bytes, with a checksum.
    package static func compress(_ data: Data, level: Int32 = 3, windowLog: Int32 = 19) -> Data {
        let context = ZSTD_createCCtx()!
        defer { ZSTD_freeCCtx(context) }
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(context, ZSTD_c_windowLog, windowLog)
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        var out = [UInt8](repeating: 0, count: ZSTD_compressBound(data.count))
        let written = data.withUnsafeBytes { source in
            ZSTD_compress2(context, &out, out.count, source.baseAddress, source.count)
        }
        precondition(ZSTD_isError(written) == 0, String(cString: ZSTD_getErrorName(written)))
        return Data(out.prefix(written))
    }

    /// What `data`'s frames decode to, or nil when they do not decode whole.
    package static func decompress(_ data: Data) -> Data? {
        let context = ZSTD_createDCtx()!
        defer { ZSTD_freeDCtx(context) }
        var decoded = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        return data.withUnsafeBytes { bytes -> Data? in
            var source = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
            var last = 0
            repeat {
                let full = chunk.withUnsafeMutableBytes { buffer -> Bool in
                    var target = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
                    last = ZSTD_decompressStream(context, &target, &source)
                    decoded.append(buffer.bindMemory(to: UInt8.self).baseAddress!, count: target.pos)
                    return target.pos == target.size
                }
                if ZSTD_isError(last) != 0 { return nil }
                if !full, source.pos == source.size { break }
            } while true
            return last == 0 ? decoded : nil  // Nonzero: the last frame is cut short.
        }
    }
}
