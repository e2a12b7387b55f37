import CZstd
import NIOCore

/// A zstd frame (RFC 8878) written piece by piece: the server's stream, one line at a time, and
/// tests that need a frame made to order.
package final class ZstdCompressor {
    /// What to do once a piece is taken in.
    package enum Ending {
        /// Nothing: zstd may keep what it has, to compress with what comes next.
        case none
        /// Say all taken so far, so that the reader can decode it now; the frame goes on.
        case flush
        /// End the frame: its last block and checksum.
        case frame
    }

    private let context: OpaquePointer

    /// A frame at `level`, its window 2^`windowLog` bytes, with a checksum of what it holds: the
    /// reader checks what it decoded against it, so bytes mangled on the way are caught even
    /// where they would still parse.
    package init(level: Int32, windowLog: Int32) throws {
        guard let context = ZSTD_createCCtx() else { throw ZstdError(code: 0) }
        self.context = context
        try ZstdError.check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level))
        try ZstdError.check(ZSTD_CCtx_setParameter(context, ZSTD_c_windowLog, windowLog))
        try ZstdError.check(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1))
    }

    deinit { ZSTD_freeCCtx(context) }

    /// Compresses `input` into `out` until zstd has taken it all and, for a flush or the frame's
    /// end, said all it has.
    package func compress(_ input: UnsafeRawBufferPointer, into out: inout ByteBuffer, ending: Ending) throws {
        let mode: ZSTD_EndDirective =
            switch ending {
            case .none: ZSTD_e_continue
            case .flush: ZSTD_e_flush
            case .frame: ZSTD_e_end
            }
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            let room = max(ZSTD_CStreamOutSize(), ZSTD_compressBound(input.count - source.pos))
            var pending = 0
            try out.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { buffer in
                var target = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
                pending = try ZstdError.check(ZSTD_compressStream2(context, &target, &source, mode))
                return target.pos
            }
            if source.pos == source.size, pending == 0 || ending == .none { return }
        }
    }
}
