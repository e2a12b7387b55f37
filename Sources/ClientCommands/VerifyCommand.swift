import ArgumentParser
import Foundation
import HavenClient
import HavenCore

/// `haven verify`: recomputes the published set's digest from the replica's records and holds it
/// against the last verified signature (Replica+Verification.swift).
struct VerifyCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "verify",
            abstract: Words(
                "Check the replica's published content against the publisher's signature.",
                korean: "복제본의 게시된 내용을 발행자의 서명으로 확인합니다.").text,
            discussion: Words(
                """
                Hashes every published record this replica holds, as the server sent it, and checks the result \
                against the last signature that verified. This catches a replica altered on the device: records \
                found altered are marked unverified, and the next 'haven sync' downloads everything again. \
                Unsent edits are not part of the published content and are not checked.
                """,
                korean: """
                    이 복제본에 있는 게시된 기록을 서버가 보낸 그대로 모두 해시하고, 그 결과를 마지막으로 확인된 \
                    서명과 비교합니다. 기기에서 바뀐 복제본을 이렇게 찾아냅니다: 바뀐 것으로 드러난 기록은 확인되지 \
                    않음으로 표시되고, 다음 'haven sync'가 모두 다시 내려받습니다. 보내지 않은 수정은 게시된 내용이 \
                    아니므로 확인하지 않습니다.
                    """
            ).text)
    }

    @OptionGroup var replica: ReplicaOptions
    @Flag(help: ArgumentHelp(.printJSONHelp)) var json = false

    func run() throws {
        let result = try replica.open().verifyLocally()
        guard result.verified else { throw Self.failure(result) }
        if json { return try printJSON(result) }
        print(
            Words(
                "verified: the published content matches the publisher key \(result.key ?? "?")'s signature at position "
                    + "\(result.seq.map(String.init) ?? "?")",
                korean: "확인했습니다: 게시된 내용이 게시자 키 \(result.key ?? "?")의 위치 \(result.seq.map(String.init) ?? "?") "
                    + "서명과 맞습니다"))
    }

    /// Why the check failed, in words.
    static func failure(_ result: Replica.LocalVerification) -> ClientError {
        guard result.seq != nil else {
            return ClientError(
                Words(
                    "nothing to verify against: no signature has verified yet (the server may sign nothing); run 'haven sync'",
                    korean: "확인할 기준이 없습니다: 아직 확인된 서명이 없습니다 (서버가 서명하지 않을 수 있습니다). "
                        + "'haven sync'를 실행하세요"),
                code: .unverifiedContent)
        }
        let ids = result.altered.prefix(10).joined(separator: ", ") + (result.altered.count > 10 ? ", …" : "")
        return ClientError(
            Words(
                "the published content here does NOT match the publisher's signature: "
                    + (result.altered.isEmpty ? "" : "\(result.altered.count) record(s) were altered on this device (\(ids)); ")
                    + "\(result.unverified) record(s) are marked unverified. Do not rely on them; 'haven sync' downloads "
                    + "everything again",
                korean: "여기 있는 게시된 내용이 게시자의 서명과 맞지 않습니다: "
                    + (result.altered.isEmpty ? "" : "기록 \(result.altered.count)개가 이 기기에서 바뀌었습니다 (\(ids)). ")
                    + "기록 \(result.unverified)개를 확인되지 않음으로 표시했습니다. 믿지 마세요. 'haven sync'가 모두 새로 "
                    + "내려받습니다"),
            code: .unverifiedContent)
    }
}
