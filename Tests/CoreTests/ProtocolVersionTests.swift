import HavenCore
import Testing

/// How a server judges a request's `Haven-Protocol` (``ProtocolVersion/admit(_:)``).
struct ProtocolVersionTests {
    @Test(arguments: [
        (nil, ProtocolVersion.Admission.accepted(ProtocolVersion.unstated)),
        ("1", .accepted(1)),
        (" 1 ", .accepted(1)),
        ("2", .accepted(2)),
        ("0", .refused(.init(upgradeRequired: true, message: "Haven-Protocol: 0 is too old: this server speaks protocol versions 1 to 2; update haven"))),
        ("-3", .refused(.init(upgradeRequired: true, message: "Haven-Protocol: -3 is too old: this server speaks protocol versions 1 to 2; update haven"))),
        ("3", .refused(.init(upgradeRequired: false, message: "Haven-Protocol: 3 is newer than this server: this server speaks protocol versions 1 to 2; update the server"))),
        ("1.5", .refused(.init(upgradeRequired: false, message: "Haven-Protocol: 1.5 is not a protocol version: send a whole number such as 2"))),
    ] as [(String?, ProtocolVersion.Admission)])
    func admitsOnlyTheVersionsItSpeaks(header: String?, expected: ProtocolVersion.Admission) {
        #expect(ProtocolVersion.admit(header) == expected)
    }

    @Test func theOldestSupportedVersionIsNotNewerThanTheCurrentOne() {
        #expect(ProtocolVersion.oldestSupported <= ProtocolVersion.current)
        #expect(ProtocolVersion.admit(String(ProtocolVersion.current)) == .accepted(ProtocolVersion.current))
    }
}
