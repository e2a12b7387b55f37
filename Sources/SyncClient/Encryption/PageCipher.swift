import Crypto
import Foundation

/// AES-256-GCM over one 4096-byte SQLite page, the nonce and tag kept in the page's last
/// ``reservedBytes`` bytes, which SQLite leaves to us (the database's "reserved bytes per page",
/// as `cksumvfs` uses them).
///
/// Rules:
/// 1. Every write draws a fresh random 96-bit nonce: a page is never sealed twice under one nonce.
/// 2. What is sealed says where it belongs (the associated data): the file's role and the page
///    number, or for the WAL the frame's position and its plain header. A page moved, swapped,
///    copied from another replica or another place fails to open instead of reading as garbage.
/// 3. Two subkeys are drawn from the data key with HKDF, one per use: pages, and the pad that
///    hides the WAL frames' checksums (computed by SQLite over plaintext).
// Unchecked: SymmetricKey is immutable; Crypto does not mark it Sendable.
struct PageCipher: @unchecked Sendable {
    static let pageSize = 4096
    static let nonceSize = 12
    static let tagSize = 16
    static let reservedBytes = nonceSize + tagSize
    /// The bytes of a page that SQLite uses, and that are encrypted.
    static let usableSize = pageSize - reservedBytes

    private let pageKey: SymmetricKey
    private let checksumPadKey: SymmetricKey

    init(dataKey: SymmetricKey) {
        pageKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: dataKey, info: Data("haven replica pages v1".utf8), outputByteCount: 32)
        checksumPadKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: dataKey, info: Data("haven replica wal checksum pad v1".utf8), outputByteCount: 32)
    }

    /// Encrypts `page` in place: its first ``usableSize`` bytes become ciphertext, the rest the
    /// nonce and the tag.
    func seal(_ page: UnsafeMutableRawBufferPointer, associatedData: [UInt8]) throws {
        precondition(page.count == Self.pageSize)
        let box = try AES.GCM.seal(
            UnsafeRawBufferPointer(rebasing: page[..<Self.usableSize]), using: pageKey, nonce: AES.GCM.Nonce(),
            authenticating: associatedData)
        box.ciphertext.copyBytes(to: page)
        let trailer = UnsafeMutableRawBufferPointer(rebasing: page[Self.usableSize...])
        box.nonce.withUnsafeBytes { trailer.copyMemory(from: $0) }
        box.tag.copyBytes(to: UnsafeMutableRawBufferPointer(rebasing: trailer[Self.nonceSize...]))
    }

    /// Decrypts `page` in place and zeroes its reserved bytes (what SQLite wrote there, as far as
    /// it knows); false, and `page` unchanged, when it does not authenticate.
    func open(_ page: UnsafeMutableRawBufferPointer, associatedData: [UInt8]) -> Bool {
        precondition(page.count == Self.pageSize)
        let sealed = UnsafeRawBufferPointer(page)
        let tagStart = Self.usableSize + Self.nonceSize
        guard
            let nonce = try? AES.GCM.Nonce(data: UnsafeRawBufferPointer(rebasing: sealed[Self.usableSize..<tagStart])),
            let box = try? AES.GCM.SealedBox(
                nonce: nonce, ciphertext: UnsafeRawBufferPointer(rebasing: sealed[..<Self.usableSize]),
                tag: UnsafeRawBufferPointer(rebasing: sealed[tagStart...])),
            let plain = try? AES.GCM.open(box, using: pageKey, authenticating: associatedData)
        else { return false }
        plain.copyBytes(to: page)
        UnsafeMutableRawBufferPointer(rebasing: page[Self.usableSize...]).initializeMemory(as: UInt8.self, repeating: 0)
        return true
    }

    /// The 8 bytes XORed over a WAL frame header's two checksum words: a pseudo-random function
    /// of the WAL's salts and the frame's index, so the stored words say nothing of the content.
    func checksumPad(salts: some Sequence<UInt8>, frame: Int) -> [UInt8] {
        var message = Array(salts)
        message += bigEndian(UInt32(truncatingIfNeeded: frame))
        return Array(HMAC<SHA256>.authenticationCode(for: message, using: checksumPadKey).prefix(8))
    }
}

/// `value` as 4 big-endian bytes.
func bigEndian(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
}
