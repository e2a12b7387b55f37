/// The version of the sync protocol, in one place: the one this build speaks, the oldest a
/// server still answers, and how a server judges the `Haven-Protocol` header a client sends.
///
/// Every client request carries `Haven-Protocol: N`; every server answer carries the server's
/// ``current``. A request without the header is taken as version 1, the protocol as it was
/// before the header existed (old clients, `curl`, a browser): it is answered while
/// ``oldestSupported`` is 1 and refused once it is not. A version below ``oldestSupported`` is
/// refused with 426 ``ErrorCode/upgradeRequired``; a version above ``current`` (a client newer
/// than the server) with 400 ``ErrorCode/invalidHeader``: the server needs the update.
///
/// For example:
/// ```swift
/// switch ProtocolVersion.admit(request.headers["Haven-Protocol"]) {
/// case .accepted(let version): serve(version)
/// case .refused(let refusal): answer(refusal.upgradeRequired ? 426 : 400, refusal.message)
/// }
/// ```
public enum ProtocolVersion {
    /// The name of the header that carries the version, both ways.
    public static let headerName = "Haven-Protocol"
    /// The version this build speaks: what a client sends and a server states in every answer.
    public static let current = 2
    /// The first version whose pull answers may give a record one `stamp` that its registers
    /// without their own carry (RecordState.swift): a server answers older clients with every
    /// register stamped.
    public static let sharedStamps = 2
    /// The oldest version a server still answers. Raising it refuses older clients with
    /// `upgrade_required`; the README states the policy.
    public static let oldestSupported = 1
    /// The oldest version a client of this build still speaks to a server that knows no newer
    /// one: every version from 1 reads and writes what version 1 did.
    public static let oldestSpoken = 1
    /// The version a request without the header is taken to speak.
    public static let unstated = 1

    /// What a server makes of a request's `Haven-Protocol` value.
    public enum Admission: Equatable, Sendable {
        /// The server answers the request, speaking this version.
        case accepted(Int)
        /// The server refuses the request, and says why.
        case refused(Refusal)
    }

    /// Why a server refuses a request's protocol version, in words that say what to update.
    public struct Refusal: Equatable, Sendable {
        /// Whether the client is too old (426 `upgrade_required`) rather than the header being
        /// malformed or newer than the server (400 `invalid_header`).
        public var upgradeRequired: Bool
        /// What is wrong and what to update, naming the versions.
        public var message: String

        /// A refusal; `upgradeRequired` when the client is too old.
        public init(upgradeRequired: Bool, message: String) {
            self.upgradeRequired = upgradeRequired
            self.message = message
        }
    }

    /// Judges `header`, the value of a request's `Haven-Protocol` (nil when it has none).
    public static func admit(_ header: String?) -> Admission {
        guard let header else { return admit(version: unstated, stated: false) }
        guard let version = Int(header.trimmingCharacters(in: .whitespaces)) else {
            return .refused(
                Refusal(
                    upgradeRequired: false,
                    message: "\(headerName): \(header.prefix(20)) is not a protocol version: send a whole number such as \(current)"))
        }
        return admit(version: version, stated: true)
    }

    private static func admit(version: Int, stated: Bool) -> Admission {
        let range = oldestSupported == current ? "version \(current)" : "versions \(oldestSupported) to \(current)"
        let speaks = "this server speaks protocol \(range)"
        if version < oldestSupported {
            let sent = stated ? "\(headerName): \(version)" : "no \(headerName) header (version \(unstated))"
            return .refused(Refusal(upgradeRequired: true, message: "\(sent) is too old: \(speaks); update haven"))
        }
        if version > current {
            return .refused(
                Refusal(
                    upgradeRequired: false,
                    message: "\(headerName): \(version) is newer than this server: \(speaks); update the server"))
        }
        return .accepted(version)
    }
}
