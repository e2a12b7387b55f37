import Foundation

/// A passphrase's bytes, zeroed when the last reference goes. Never printed: its description
/// is a placeholder.
final class Passphrase: CustomStringConvertible {
    private(set) var bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The text a file or a terminal gave, without the one line end after it.
    convenience init(reading data: Data) {
        var bytes = [UInt8](data)
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        self.init(bytes)
    }

    var isEmpty: Bool { bytes.isEmpty }

    func matches(_ other: Passphrase) -> Bool { bytes == other.bytes }

    var description: String { "(passphrase)" }

    deinit {
        bytes.withUnsafeMutableBufferPointer { buffer in
            for index in buffer.indices { buffer[index] = 0 }
        }
    }
}
