import Crypto
import Foundation
import HavenCore

/// An access token as stored: its secret is kept only as a SHA-256 hash.
public struct TokenInfo: Sendable, Hashable, Codable {
    /// The token's id: the author of its changes, never secret.
    public var id: String
    /// The name it was created with, shown as the author of its writes.
    public var name: String
    /// What the token may do.
    public var role: Role
    /// Milliseconds since 1970.
    public var createdAt: UInt64
    /// When it stops working, milliseconds since 1970; nil for never.
    public var expiresAt: UInt64?
    /// When it was revoked, milliseconds since 1970; nil while it is not.
    public var revokedAt: UInt64?
    /// When the token last authenticated a request, to within ``lastUseResolution``; nil if never.
    public var lastUsedAt: UInt64?

    /// How stale ``lastUsedAt`` may be: a token in use is written at most this often (a
    /// minute), never once per request.
    public static let lastUseResolution: UInt64 = 60_000

    /// A stored token; times in milliseconds since 1970.
    public init(
        id: String, name: String, role: Role, createdAt: UInt64, expiresAt: UInt64?, revokedAt: UInt64?,
        lastUsedAt: UInt64? = nil
    ) {
        self.id = id
        self.name = name
        self.role = role
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.lastUsedAt = lastUsedAt
    }

    /// Whether the token is accepted at `now`.
    public func isValid(at now: UInt64) -> Bool {
        revokedAt == nil && (expiresAt.map { now < $0 } ?? true)
    }

    /// Whether a use at `now` should be written down: never used, or last written down at
    /// least ``lastUseResolution`` before.
    public func shouldRecordUse(at now: UInt64) -> Bool {
        lastUsedAt.map { now >= $0 &+ Self.lastUseResolution } ?? true
    }
}

/// Making and hashing token secrets.
public enum TokenSecret {
    /// A new secret: `hvn_` and 256 random bits in base64url.
    public static func generate() -> String {
        let key = SymmetricKey(size: .bits256)
        let bytes = key.withUnsafeBytes { Data($0) }
        return "hvn_" + base64URL(bytes)
    }

    /// A new token id: 16 hex digits, not secret.
    public static func generateID() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// The SHA-256 of a secret: what the store keeps and looks tokens up by.
    public static func hash(_ secret: String) -> Data {
        Data(SHA256.hash(data: Data(secret.utf8)))
    }

    private static func base64URL(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
