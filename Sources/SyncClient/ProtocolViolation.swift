import Foundation
import HavenCore

/// An answer no Haven server gives: a redirect, a body too large or undecodable, a cursor that
/// comes back, a record the schema forbids. The server is broken, hostile or not a Haven server
/// (a captive portal, a wrong address); retrying cannot help, so the sync stops at once and
/// nothing of the answer is stored.
///
/// The message names what was wrong, never the body's content.
public struct ProtocolViolation: Error, Sendable, CustomStringConvertible {
    /// What the server did, in words a person can act on.
    public let message: String

    private init(_ message: String) { self.message = message }

    public var description: String { message }

    /// What every violation but a redirect ends with.
    private static let advice =
        "nothing of it was stored and unsent changes are kept; the server may be broken or not a Haven server: "
        + "tell its admin, or check the server address ('haven status')"

    /// A 3xx: haven never follows one, so the token never travels to another origin.
    static func redirect(status: Int, to location: URL?) -> ProtocolViolation {
        let target = location.flatMap(origin(of:)) ?? "an address it did not give"
        return ProtocolViolation(
            "the server answered a redirect (\(status)) to \(target); haven does not follow redirects: "
                + "check the server URL ('haven status' shows it; 'haven init' a new replica with the right one)")
    }

    /// A body past ``ProtocolLimits/answerBytes`` on the wire.
    static func tooLarge(limit: Int) -> ProtocolViolation {
        ProtocolViolation("the server's answer is larger than \(mebibytes(limit)), more than a Haven server sends: \(advice)")
    }

    /// A gzip body that inflates past ``ProtocolLimits/answerBytes``.
    static func inflatesTooLarge(limit: Int) -> ProtocolViolation {
        ProtocolViolation("the server's answer inflates to more than \(mebibytes(limit)), more than a Haven server sends: \(advice)")
    }

    /// A body whose `Content-Encoding` does not match it, or names an encoding haven never asked for.
    static func undecodable(encoding: String) -> ProtocolViolation {
        ProtocolViolation(
            "the server's answer is labelled 'Content-Encoding: \(encoding)' but is not \(encoding): \(advice)")
    }

    static func unknownEncoding(_ encoding: String) -> ProtocolViolation {
        ProtocolViolation(
            "the server's answer is labelled 'Content-Encoding: \(encoding)', which haven never asked for: \(advice)")
    }

    /// `more: true` with a cursor the pull had already been given: following it would loop forever.
    static func cursorCameBack(_ cursor: SyncCursor) -> ProtocolViolation {
        ProtocolViolation(
            "the server said more changes follow but sent back a position this pull had already reached (\(cursor)), "
                + "so following it would never end: \(advice)")
    }

    /// A pulled record, or the state it would leave, that the schema forbids.
    static func invalidRecord(_ kind: RecordKind, _ id: String, _ problem: String) -> ProtocolViolation {
        ProtocolViolation(
            "the server sent \(kind) \(id.prefix(100)), which breaks the record schema (\(problem)); \(advice)")
    }

    /// A `removed` entry that cannot be a record id.
    static func invalidRemovedID(_ id: String) -> ProtocolViolation {
        ProtocolViolation("the server listed '\(id.prefix(100))' as removed, which is not a record id; \(advice)")
    }

    /// The scheme, host and port of a `Location` value, never its path or query (which could
    /// carry anything).
    private static func origin(of url: URL) -> String? {
        guard let scheme = url.scheme, let host = url.host else { return nil }
        return "\(scheme)://\(host)" + (url.port.map { ":\($0)" } ?? "")
    }

    private static func mebibytes(_ bytes: Int) -> String {
        bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) bytes"
    }
}
