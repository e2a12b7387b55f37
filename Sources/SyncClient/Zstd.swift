import CZstd
import NIOCore

/// zstd decoding of a streamed answer (`Content-Encoding: zstd`, RFC 8878), for ``BodyInflater``.
final class ZstdDecompressor {
    /// The largest window a frame may ask for: 8 MiB, what HTTP clients must decode (RFC 8878,
    /// section 3.1.1.1.2). A hostile server's frame asking for more is refused instead of
    /// taking up to 2 GiB of this device's memory.
    static let windowLogMax: Int32 = 23

    private let context: OpaquePointer

    init() throws {
        guard let context = ZSTD_createDCtx() else { throw ZstdFailure(code: 0) }
        self.context = context
        try check(ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, Self.windowLogMax))
    }

    deinit { ZSTD_freeDCtx(context) }

    /// Up to `limit` bytes decoded from `input`, and whether `input` has given all it can
    /// until more arrives.
    ///
    /// - Throws: ``ZstdFailure`` for bytes that are not zstd, a checksum that does not match, or a
    ///   frame asking for a window past ``windowLogMax``.
    func decompress(_ input: inout ByteBuffer, atMost limit: Int) throws -> (ByteBuffer, done: Bool) {
        var output = ByteBuffer()
        var outputFull = false
        try input.readWithUnsafeReadableBytes { bytes in
            var source = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
            try output.writeWithUnsafeMutableBytes(minimumWritableBytes: limit) { buffer in
                var target = ZSTD_outBuffer(dst: buffer.baseAddress, size: limit, pos: 0)
                try check(ZSTD_decompressStream(context, &target, &source))
                outputFull = target.pos == target.size
                return target.pos
            }
            return source.pos
        }
        // A full output may leave decoded bytes inside zstd, to be asked for again.
        return (output, !outputFull && input.readableBytes == 0)
    }

    @discardableResult
    private func check(_ result: Int) throws -> Int {
        if ZSTD_isError(result) != 0 { throw ZstdFailure(code: result) }
        return result
    }
}

/// A failure inside libzstd, by its own name.
struct ZstdFailure: Error, CustomStringConvertible {
    let code: Int
    /// A frame asking for a window past ``ZstdDecompressor/windowLogMax``.
    var isWindowTooLarge: Bool { code != 0 && ZSTD_getErrorCode(code) == ZSTD_error_frameParameter_windowTooLarge }
    var description: String {
        code == 0 ? "zstd: out of memory" : "zstd: " + String(cString: ZSTD_getErrorName(code))
    }
}
