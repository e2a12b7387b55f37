import Foundation
import HavenCore

/// An answer no Haven server gives: a redirect, a body too large or undecodable, a cursor that
/// comes back, a record the schema forbids. The server is broken, hostile or not a Haven server
/// (a captive portal, a wrong address); retrying cannot help, so the sync stops at once and
/// nothing of the answer is stored.
///
/// The message names what was wrong, never the body's content.
public struct ProtocolViolation: Error, Sendable, CustomStringConvertible {
    /// What the server did, in words a person can act on, in every language.
    public let words: Words

    private init(_ words: Words) { self.words = words }

    /// What the server did, in the language of this task.
    public var message: String { words.text }

    /// The same as ``message``.
    public var description: String { message }

    /// What every violation but a redirect ends with.
    private static let advice = Words(
        "nothing of it was stored and unsent changes are kept; the server may be broken or not a Haven server: "
            + "tell its admin, or check the server address ('haven status')",
        korean: "받은 것은 하나도 저장하지 않았고 보내지 않은 변경은 그대로 있습니다. 서버가 고장 났거나 Haven 서버가 "
            + "아닐 수 있습니다: 서버 관리자에게 알리거나 서버 주소를 확인하세요 ('haven status')")

    /// A 3xx: haven never follows one, so the token never travels to another origin.
    static func redirect(status: Int, to location: URL?) -> ProtocolViolation {
        let origin = location.flatMap(origin(of:))
        let target = Words(origin ?? "an address it did not give", korean: origin ?? "알려 주지 않은 주소")
        return ProtocolViolation(
            Words(
                "the server answered a redirect (\(status)) to \(target.english); haven does not follow redirects: "
                    + "check the server URL ('haven status' shows it; 'haven init' a new replica with the right one)",
                korean: "서버가 다른 주소로 보내는 답(\(status))을 했습니다 (\(target.korean)). haven은 그런 답을 따라가지 "
                    + "않습니다: 서버 URL을 확인하세요 ('haven status'가 보여 줍니다. 맞는 주소로 'haven init'을 해서 "
                    + "새 복제본을 만드세요)"))
    }

    /// A body past ``ProtocolLimits/answerBytes`` on the wire.
    static func tooLarge(limit: Int) -> ProtocolViolation {
        ProtocolViolation(
            Words(
                "the server's answer is larger than \(mebibytes(limit)), more than a Haven server sends: ",
                korean: "서버의 답이 \(mebibytes(limit))보다 큽니다. Haven 서버가 보내는 것보다 큽니다: ") + advice)
    }

    /// A line of a streamed pull past ``ProtocolLimits/answerBytes``: no page is that large.
    static func lineTooLarge(limit: Int) -> ProtocolViolation {
        ProtocolViolation(
            Words(
                "a page of the server's streamed answer is larger than \(mebibytes(limit)), more than a Haven server sends: ",
                korean: "서버가 이어서 보낸 답의 한 페이지가 \(mebibytes(limit))보다 큽니다. Haven 서버가 보내는 것보다 큽니다: ")
                + advice)
    }

    /// A gzip body that inflates past ``ProtocolLimits/answerBytes``.
    static func inflatesTooLarge(limit: Int) -> ProtocolViolation {
        ProtocolViolation(
            Words(
                "the server's answer inflates to more than \(mebibytes(limit)), more than a Haven server sends: ",
                korean: "서버의 답을 풀면 \(mebibytes(limit))보다 커집니다. Haven 서버가 보내는 것보다 큽니다: ") + advice)
    }

    /// A body whose `Content-Encoding` does not match it, or names an encoding haven never asked for.
    static func undecodable(encoding: String) -> ProtocolViolation {
        ProtocolViolation(
            Words(
                "the server's answer is labelled 'Content-Encoding: \(encoding)' but is not \(encoding): ",
                korean: "서버의 답에 붙은 표시(Content-Encoding: \(encoding))와 실제 내용이 맞지 않습니다: ") + advice)
    }

    /// A zstd frame asking this device to hold more of the answer at once than HTTP allows.
    static func zstdWindowTooLarge(limit: Int) -> ProtocolViolation {
        ProtocolViolation(
            Words(
                "the server's zstd answer asks to keep more than \(mebibytes(limit)) in memory to decode it, more than a Haven server asks: ",
                korean: "서버의 zstd 답을 풀려면 \(mebibytes(limit))보다 많은 메모리가 필요합니다. Haven 서버가 요구하는 것보다 많습니다: ") + advice)
    }

    static func unknownEncoding(_ encoding: String) -> ProtocolViolation {
        ProtocolViolation(
            Words(
                "the server's answer is labelled 'Content-Encoding: \(encoding)', which haven never asked for: ",
                korean: "서버의 답에 haven이 요청한 적 없는 인코딩이 적혀 있습니다 ('Content-Encoding: \(encoding)'): ")
                + advice)
    }

    /// `more: true` with a cursor the pull had already been given: following it would loop forever.
    static func cursorCameBack(_ cursor: SyncCursor) -> ProtocolViolation {
        ProtocolViolation(
            Words(
                "the server said more changes follow but sent back a position this pull had already reached (\(cursor)), "
                    + "so following it would never end: ",
                korean: "서버가 변경이 더 있다고 하면서 이번 받기가 이미 지나온 위치(\(cursor))를 다시 보냈습니다. 그대로 "
                    + "따라가면 끝나지 않습니다: ") + advice)
    }

    /// A pulled record, or the state it would leave, that the schema forbids.
    static func invalidRecord(_ kind: RecordKind, _ id: String, _ problem: Words) -> ProtocolViolation {
        ProtocolViolation(
            Words(
                "the server sent \(kind) \(id.prefix(100)), which breaks the record schema (\(problem.english)); ",
                korean: "서버가 보낸 기록(\(kind) \(id.prefix(100)))이 기록 형식에 맞지 않습니다 (\(problem.korean)). ")
                + advice)
    }

    /// A `removed` entry that cannot be a record id.
    static func invalidRemovedID(_ id: String) -> ProtocolViolation {
        ProtocolViolation(
            Words(
                "the server listed '\(id.prefix(100))' as removed, which is not a record id; ",
                korean: "서버가 지워진 기록으로 알린 값('\(id.prefix(100))')은 기록 id가 아닙니다. ") + advice)
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
