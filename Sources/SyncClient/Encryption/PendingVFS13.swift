import Crypto
import Foundation

// TEMPORARY, removed when branch vfs13 (the page-level AEAD VFS) is merged: its API's
// signatures, so that the key and passphrase half builds and is tested alone. These do NOT
// encrypt anything.
extension Replica {
    static func create(at path: String, server: URL, token: String, link: Link, encryptionKey: SymmetricKey?) throws -> Replica {
        try create(at: path, server: server, token: token, link: link)
    }

    static func open(at path: String, encryptionKey: SymmetricKey?) throws -> Replica {
        try open(at: path)
    }

    static func encryptInPlace(path: String, key: SymmetricKey) throws {}
}
