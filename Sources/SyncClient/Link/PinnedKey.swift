import Crypto
import Foundation
import NIOSSL

/// The server key a replica trusts: the SHA-256 of the public key (its DER SubjectPublicKeyInfo)
/// of the server's certificate, written `sha256/BASE64` as HTTP public-key pinning wrote it.
///
/// The key, not the certificate, is pinned: a renewed certificate for the same key is accepted,
/// and a certificate for another key is refused even if a CA the system trusts signed it.
public struct PinnedKey: Sendable, Equatable, CustomStringConvertible {
    /// The 32 bytes of the SHA-256 of the SubjectPublicKeyInfo.
    public let digest: [UInt8]

    /// The key of `certificate`.
    public init(of certificate: NIOSSLCertificate) throws {
        digest = Array(SHA256.hash(data: try certificate.extractPublicKey().toSPKIBytes()))
    }

    /// A pin as written by ``description``; nil for anything else.
    public init?(parsing text: String) {
        let prefix = "sha256/"
        guard text.hasPrefix(prefix), let bytes = Data(base64Encoded: String(text.dropFirst(prefix.count))),
            bytes.count == SHA256.byteCount
        else { return nil }
        digest = Array(bytes)
    }

    /// The key as `haven pin` shows it: `sha256/` and the base64 of the digest.
    public var description: String { "sha256/" + Data(digest).base64EncodedString() }
}
