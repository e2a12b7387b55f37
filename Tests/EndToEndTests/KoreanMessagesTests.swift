import Foundation
import HavenCore
import Testing
import TestSupport

/// `haven` in Korean for field staff who read Korean (issue 15), through the real binaries:
/// LANG=ko_KR.UTF-8 turns what a person reads into Korean, and nothing a machine reads (JSON
/// keys, error codes, record ids, field names); LANG=C and LC_ALL=C keep the English.
@Suite(.serialized)
struct KoreanMessagesTests {
    /// Runs `haven` on `device` with `LANG` (and `LC_ALL` when given).
    private func haven(
        _ device: Device, _ arguments: [String], lang: String, lcAll: String? = nil
    ) throws -> ProcessResult {
        var environment = ["HAVEN_REPLICA": device.replica, "LANG": lang]
        environment["LC_ALL"] = lcAll
        return try run(Binaries.url("haven"), arguments, environment: environment, in: device.directory)
    }

    /// The `{"error":{"code","message"}}` a `--json` failure prints.
    private func jsonError(_ result: ProcessResult) throws -> (code: String, message: String) {
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: [String: String]]
        let error = try #require(object?["error"], "\(result.stdout)")
        return (try #require(error["code"]), try #require(error["message"]))
    }

    @Test func aFieldWorkerReadsKoreanFromInitToARefusedEditAndTheCodesStayTheSame() throws {
        // Given a server with a story an editor published, and a field token in a file
        let world = try FieldStaffTests.World()
        let token = try world.tokenFile(role: "field", name: "amina")
        let field = Device("field", in: world.directory)
        let ko = "ko_KR.UTF-8"

        // When a token file is missing, Then init says so in Korean, naming the file, and saves nothing
        let missing = try haven(field, ["init", "--server", world.server.url, "--token-file", "missing.token"], lang: ko)
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("토큰 파일(missing.token)을 읽을 수 없습니다: 그런 파일이 없습니다"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: field.replica))

        // When the replica is made and synced, Then each step is said in Korean
        let created = try haven(field, ["init", "--server", world.server.url, "--token-file", token], lang: ko)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.contains("Haven 서버입니다. 토큰은 amina의 field 토큰입니다"), "\(created.stdout)")
        #expect(created.stdout.contains("암호화된 복제본을 만들었습니다: \(field.replica)"), "\(created.stdout)")
        let synced = try haven(field, ["sync", "--retry-for", "0"], lang: ko)
        #expect(synced.status == 0 && synced.stdout.contains("기록 1개를 받았습니다 (페이지 1개)"), "\(synced.stdout)")
        let status = try haven(field, ["status"], lang: ko)
        #expect(status.stdout.contains("보낼 변경이 없습니다."), "\(status.stdout)")
        #expect(status.stdout.contains("암호화되어 있습니다: 열려면 암호문구가 필요합니다."), "\(status.stdout)")

        // When field staff edit the published story, Then it is refused before saving, in Korean,
        // with the record id, the field name and the code as they are
        let refused = try haven(field, ["stories", "edit", world.story, "--title", "바꾼 제목"], lang: ko)
        #expect(refused.status != 0)
        #expect(
            refused.stderr.contains(
                "저장하지 않았습니다: 기록 \(world.story): 게시된 이야기는 편집자(editor)만 고칠 수 있습니다 (forbidden)"),
            "\(refused.stderr)")

        // And a --json failure keeps its code with a Korean message, as in English
        let nowhere = Device("nowhere", in: world.directory)
        let korean = try jsonError(try haven(nowhere, ["status", "--json"], lang: ko))
        let english = try jsonError(try haven(nowhere, ["status", "--json"], lang: "C"))
        #expect(korean.code == english.code && korean.code == "command_failed")
        #expect(korean.message == "\(nowhere.replica)에 복제본이 없습니다: 먼저 'haven init --server URL --token-file PATH'를 실행하세요")
        #expect(english.message.hasPrefix("no replica at \(nowhere.replica)"), "\(english.message)")

        // When the server is gone, Then sync --json says unreachable, in Korean words
        world.server.stop()
        let unreachable = try jsonError(try haven(field, ["sync", "--retry-for", "0", "--json"], lang: ko))
        #expect(unreachable.code == "unreachable")
        #expect(unreachable.message.contains("연결할 수 없습니다: 연결이 거부되었습니다"), "\(unreachable.message)")
    }

    @Test func englishIsUnchangedWithLANGCAndLCALLWinsOverLANG() throws {
        // Given a field replica and a published story
        let world = try FieldStaffTests.World()
        let token = try world.tokenFile(role: "field", name: "amina")
        let field = Device("field", in: world.directory)

        // When it runs with LANG=C, or LC_ALL=C over a Korean LANG
        let created = try haven(field, ["init", "--server", world.server.url, "--token-file", token], lang: "C")
        let synced = try haven(field, ["sync", "--retry-for", "0"], lang: "ko_KR.UTF-8", lcAll: "C")
        let refused = try haven(field, ["stories", "edit", world.story, "--title", "Changed"], lang: "C")
        let missing = try haven(field, ["login", "--token-file", "missing.token"], lang: "ko_KR.UTF-8", lcAll: "C")

        // Then everything is in English, as before
        #expect(created.stdout.contains("checked \(world.server.url): a Haven server; the token is amina's, a field token"))
        #expect(created.stdout.contains("created encrypted replica \(field.replica)"), "\(created.stdout)")
        #expect(synced.stdout.contains("pulled 1 record in 1 page"), "\(synced.stdout)")
        #expect(
            refused.stderr.contains("not saved: record \(world.story): published stories can be edited by editors only (forbidden)"),
            "\(refused.stderr)")
        #expect(missing.stderr.contains("cannot read the token file missing.token: there is no such file"), "\(missing.stderr)")
        for result in [created, synced, refused, missing] {
            #expect(!hasHangul(result.stdout + result.stderr), "\(result.stdout)\(result.stderr)")
        }
    }
}
