import CZstd

/// A failure inside libzstd, by its own name.
package struct ZstdError: Error, CustomStringConvertible {
    /// libzstd's result code; 0 when a context could not be made.
    let code: Int

    /// A frame asking for a window past the decompressor's limit.
    package var isWindowTooLarge: Bool {
        code != 0 && ZSTD_getErrorCode(code) == ZSTD_error_frameParameter_windowTooLarge
    }

    package var description: String {
        code == 0 ? "zstd: out of memory" : "zstd: " + String(cString: ZSTD_getErrorName(code))
    }

    /// `result`, or this error when it is one.
    @discardableResult
    static func check(_ result: Int) throws -> Int {
        if ZSTD_isError(result) != 0 { throw ZstdError(code: result) }
        return result
    }
}
