import Foundation

/// A passphrase's bytes, zeroed when the last reference goes. Never printed: its description
/// is a placeholder.
///
/// A `String` cannot be zeroed and may be copied anywhere; hand the library a passphrase as
/// bytes read from where the person typed it, and let go of it.
///
/// For example:
/// ```swift
/// let replica = try Replica.open(at: path) { Passphrase(reading: typedBytes) }
/// ```
///
/// It is `Sendable` because its bytes never change after `init`: only `deinit`, when no one else
/// holds it, overwrites them. What is zeroed is its own copy: an array the caller passed to
/// ``init(_:)`` and still holds is the caller's to clear.
public final class Passphrase: CustomStringConvertible, CustomReflectable, @unchecked Sendable {
    private(set) var bytes: [UInt8]

    /// The passphrase `bytes`, as they are.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The text a file or a terminal gave, without the one line end after it.
    public convenience init(reading data: Data) {
        var bytes = [UInt8](data)
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        self.init(bytes)
    }

    /// Whether nothing was typed.
    public var isEmpty: Bool { bytes.isEmpty }

    /// Whether `other` is the same passphrase, as when a new one is typed twice.
    public func matches(_ other: Passphrase) -> Bool { bytes == other.bytes }

    /// A placeholder, never the passphrase.
    public var description: String { "(passphrase)" }

    /// No children: `dump` and debuggers show the placeholder, not the bytes.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .class) }

    deinit {
        bytes.withUnsafeMutableBufferPointer { buffer in
            for index in buffer.indices { buffer[index] = 0 }
        }
    }
}
