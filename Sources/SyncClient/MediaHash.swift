import Crypto
import Foundation

/// The id of a media file: the SHA-256 of its bytes, in lowercase hex (`MediaReference`).
public enum MediaHash {
    /// The id of the file whose content is `bytes`.
    public static func id(of bytes: Data) -> String {
        SHA256.hash(data: bytes).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
