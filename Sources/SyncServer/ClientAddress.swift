import Foundation
import NIOCore

/// Who a request comes from, as far as throttling is concerned.
///
/// An IPv4 address stands for itself. An IPv6 client usually holds a whole /64 network, so its
/// /64 prefix is the key: otherwise one device could try a fresh address for every guess. An
/// IPv4 address mapped into IPv6 (a dual-stack listener) counts as the IPv4 address.
enum ClientAddress {
    /// The key for requests whose peer address is unknown (tests without a socket).
    static let unknown = "unknown"

    /// The key for a socket peer; nil for a Unix socket or no address.
    ///
    /// For example: `203.0.113.9`, or `2001:db8:0:1::/64` for `2001:db8:0:1:a:b:c:d`.
    static func key(for address: SocketAddress?) -> String? {
        switch address {
        case .v4(let address)?:
            return SocketAddress.v4(address).ipAddress
        case .v6(let address)?:
            let bytes = withUnsafeBytes(of: address.address.sin6_addr) { Array($0) }
            if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
                return bytes[12...].map(String.init).joined(separator: ".")
            }
            let groups = stride(from: 0, to: 8, by: 2).map {
                String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16)
            }
            return groups.joined(separator: ":") + "::/64"
        default:
            return nil
        }
    }

    /// The key for the value of a forwarding header set by a trusted reverse proxy: its last
    /// entry, the address the proxy itself saw (earlier entries are the client's to invent).
    ///
    /// For example: `"198.51.100.7, 203.0.113.9"` → `203.0.113.9`. Nil when that entry is not
    /// an IP address.
    static func key(forwarded value: String) -> String? {
        guard let last = value.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty,
            last.utf8.count <= 64, let address = try? SocketAddress(ipAddress: last, port: 0)
        else { return nil }
        return key(for: address)
    }
}
