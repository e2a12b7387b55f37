import CZstd
import NIOCore

/// zstd frames (RFC 8878) decoded as their bytes arrive, in pieces of bounded size.
package final class ZstdDecompressor {
    private let context: OpaquePointer
    private var lastHint = 0

    /// Refuses a frame asking for a window over 2^`windowLogMax` bytes, before it takes the memory.
    package init(windowLogMax: Int32) throws {
        guard let context = ZSTD_createDCtx() else { throw ZstdError(code: 0) }
        self.context = context
        try ZstdError.check(ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, windowLogMax))
    }

    deinit { ZSTD_freeDCtx(context) }

    /// Whether the last call ended a frame, all of it decoded and handed on; false while a frame
    /// is cut short.
    package var isAtFrameEnd: Bool { lastHint == 0 }

    /// Up to `limit` bytes decoded from `input`, and whether `input` has given all it can
    /// until more arrives.
    ///
    /// - Throws: ``ZstdError`` for bytes that are not zstd, a checksum that does not match, or a
    ///   frame asking for too large a window (``ZstdError/isWindowTooLarge``).
    package func decompress(_ input: inout ByteBuffer, atMost limit: Int) throws -> (ByteBuffer, done: Bool) {
        var output = ByteBuffer()
        var outputFull = false
        try input.readWithUnsafeReadableBytes { bytes in
            var source = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
            try output.writeWithUnsafeMutableBytes(minimumWritableBytes: limit) { buffer in
                var target = ZSTD_outBuffer(dst: buffer.baseAddress, size: limit, pos: 0)
                lastHint = try ZstdError.check(ZSTD_decompressStream(context, &target, &source))
                outputFull = target.pos == target.size
                return target.pos
            }
            return source.pos
        }
        // A full output may leave decoded bytes inside zstd, to be asked for again.
        return (output, !outputFull && input.readableBytes == 0)
    }
}
