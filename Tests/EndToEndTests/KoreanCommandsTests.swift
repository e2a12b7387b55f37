import Foundation
import HavenCore
import Testing
import TestSupport

/// The rest of `haven` in Korean (issue 15), through the real binaries with LANG=ko_KR.UTF-8: an
/// editor's import, its dry run and warnings, history, review, list, show and search, `--help`
/// and option errors. Haven's own words are Korean; field names, values, ids and record content
/// are as they are; no English sentence is left.
@Suite(.serialized)
struct KoreanCommandsTests {
    private static let korean = ["LANG": "ko_KR.UTF-8"]

    /// Runs `haven` on `device` in Korean.
    private func haven(_ device: Device, _ arguments: String...) throws -> ProcessResult {
        try run(
            Binaries.url("haven"), arguments, environment: Self.korean.merging(["HAVEN_REPLICA": device.replica]) { $1 },
            in: device.directory)
    }

    /// Expects `output` to hold none of `english`.
    private func expectNoEnglish(
        _ output: String, _ english: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for sentence in english {
            #expect(!output.contains(sentence), "English left: \(sentence) in \(output)", sourceLocation: sourceLocation)
        }
    }

    @Test func anEditorImportsReviewsAndReadsInKorean() throws {
        // Given a hotline ana added and submitted for review, synced to bo, an editor
        let world = try ReviewFlowTests.World(review: "two")
        let hotline = try world.submittedResource()

        // And a hand-made pack: a new story without an id, and the hotline with a misspelt field
        let file = world.directory.path("pack.json")
        let pack = """
            {"format": "haven-pack/1", "records": [
              {"kind": "story", "fields": {"title": "새 이야기", "body": "본문", "language": "ko", "status": "draft"}},
              {"id": "\(hotline)", "kind": "resource",
               "fields": {"name": "Hotline", "category": "hotline", "country": "KR", "phone": "1577 0001", "phnoe": "x"}}
            ]}
            """
        try Data(pack.utf8).write(to: URL(fileURLWithPath: file))

        // When bo previews it, Then each step, the warning and the counts are in Korean
        let preview = try haven(world.bo, "import", file, "--dry-run")
        #expect(preview.status == 0, "\(preview.stderr)")
        #expect(
            preview.stderr.contains("경고: 2번째 기록 (\(hotline)): 지원 정보(resource)에 없는 필드입니다: 'phnoe' ('phone'의 오타인가요?). 그대로 둡니다"),
            "\(preview.stderr)")
        #expect(preview.stdout.contains("1번째 기록 ("), "\(preview.stdout)")
        #expect(preview.stdout.contains("): 추가 (story)\n    body: \"본문\""), "\(preview.stdout)")
        #expect(
            preview.stdout.contains(
                "2번째 기록 (\(hotline)): 건너뜀: 이미 여기 있고, 팩에는 어느 쪽이 새로운지 알려 줄 version도 date도 없습니다"),
            "\(preview.stdout)")
        #expect(preview.stdout.contains(#"    phone: "1577 0000" → "1577 0001" (반영하지 않음)"#), "\(preview.stdout)")
        #expect(
            preview.stdout.contains("미리 보기(아무것도 저장하지 않음): \(file). 추가 1개, 갱신 0개, 그대로 0개, 건너뜀 1개"),
            "\(preview.stdout)")
        let importEnglish = [
            "warning:", "unknown field", "did you mean", "record 1", "record 2", ": add", "skip:", "not applied",
            "would import", "added", "skipped", "imported", "left as they are", "gave", "run 'haven push'",
        ]
        expectNoEnglish(preview.stdout + preview.stderr, importEnglish)

        // When bo imports it, Then the summary, what was left alone and the new id are in Korean
        let imported = try haven(world.bo, "import", file)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("가져왔습니다: \(file). 추가 1개, 갱신 0개, 그대로 0개, 건너뜀 1개"), "\(imported.stdout)")
        #expect(
            imported.stdout.contains("이 팩이 만들어진 뒤 여기서 바뀐 기록 1개는 그대로 두었습니다 (--overwrite를 주면 덮어씁니다):"),
            "\(imported.stdout)")
        #expect(imported.stdout.contains("  2번째 기록 (\(hotline)): 이미 여기 있고"), "\(imported.stdout)")
        #expect(imported.stdout.contains("기록 1개에 새 id를 주고 파일에 써 두었습니다: \(file)"), "\(imported.stdout)")
        #expect(imported.stdout.contains("'haven push'로 보내세요"), "\(imported.stdout)")
        expectNoEnglish(imported.stdout + imported.stderr, importEnglish)

        // When bo reads the hotline's history from the server, Then Haven's words are Korean
        let history = try haven(world.bo, "history", hotline)
        #expect(history.status == 0, "\(history.stderr)")
        #expect(history.stdout.hasPrefix("resource \(hotline)의 이력 (최근 것부터):"), "\(history.stdout)")
        #expect(history.stdout.contains("  ana  (변경 "), "\(history.stdout)")
        #expect(history.stdout.contains(#"    phone: "#) && history.stdout.contains(#" → "1577 0000""#), "\(history.stdout)")
        #expect(history.stdout.contains(#"    검토 의견: "number checked""#), "\(history.stdout)")
        expectNoEnglish(history.stdout, ["history of", "newest first", "(change ", "review comment", "(unset)"])

        // And the review list and the review diff are in Korean, the title and comment as written
        let list = try haven(world.bo, "review", "list")
        #expect(list.status == 0, "\(list.stderr)")
        let rows = list.stdout.split(separator: "\n").map(String.init)
        #expect(rows.first?.hasPrefix("ID") == true && rows.first?.contains("종류") == true, "\(list.stdout)")
        #expect(rows.first?.contains("제목") == true && rows.first?.contains("의견") == true, "\(list.stdout)")
        #expect(list.stdout.contains("Hotline") && list.stdout.contains("number checked"), "\(list.stdout)")
        expectNoEnglish(list.stdout, ["KIND", "TITLE", "COMMENT"])
        let diff = try haven(world.bo, "review", "show", hotline)
        #expect(diff.stdout.contains("resource \(hotline): 비교할 게시 버전이 없습니다 (게시된 적 없음):"), "\(diff.stdout)")
        #expect(diff.stdout.contains(#"    phone: (값 없음) → "1577 0000""#), "\(diff.stdout)")
        expectNoEnglish(diff.stdout, ["against", "never published", "(unset)"])

        // When bo lists resources, Then the headers are Korean and the columns line up as a terminal shows them
        let resources = try haven(world.bo, "resources", "list")
        let lines = resources.stdout.split(separator: "\n").map(String.init)
        let header = try #require(lines.first)
        let row = try #require(lines.first { $0.hasPrefix(hotline) })
        #expect(header.contains("분류") && header.contains("국가") && header.contains("이름"), "\(resources.stdout)")
        let (countryHeader, country) = (try #require(header.range(of: "국가")), try #require(row.range(of: "KR")))
        let headerColumn = TerminalText.columns(String(header[..<countryHeader.lowerBound]))
        let rowColumn = TerminalText.columns(String(row[..<country.lowerBound]))
        #expect(headerColumn == rowColumn, "\(resources.stdout)")
        expectNoEnglish(resources.stdout, ["CATEGORY", "NAME"])

        // And a deleted story is shown and listed as deleted in Korean, its fields as they are
        let story = try #require(try ContentPack.decode(Data(contentsOf: URL(fileURLWithPath: file))).records.first?.id)
        #expect(try haven(world.bo, "stories", "delete", story).stdout.contains("삭제했습니다: \(story)"))
        let shown = try haven(world.bo, "stories", "show", story)
        #expect(shown.stdout.hasPrefix("id: \(story)\n삭제됨: 예\n"), "\(shown.stdout)")
        let deleted = try haven(world.bo, "stories", "list", "--deleted")
        #expect(deleted.stdout.contains("상태") && deleted.stdout.contains("(삭제됨)"), "\(deleted.stdout)")
        expectNoEnglish(shown.stdout + deleted.stdout, ["deleted", "STATUS", "TITLE"])

        // And search finds the hotline, and says in Korean when nothing matches
        let found = try haven(world.bo, "search", "Hotline")
        #expect(found.stdout.hasPrefix("\(hotline)  resource  review"), "\(found.stdout)")
        let nothing = try haven(world.bo, "search", "없는말")
        #expect(nothing.stdout.contains("찾는 말과 맞는 기록이 없습니다: 없는말"), "\(nothing.stdout)")
        expectNoEnglish(found.stdout + found.stderr + nothing.stdout, ["no matches", "indexed", "building"])

        // And when ana approves her own change, the server's refusal is explained in Korean, its rule quoted
        let own = try haven(world.ana, "review", "approve", hotline, "--retry-for", "0")
        #expect(own.status != 0)
        #expect(
            own.stderr.contains("승인하지 못했습니다: 마지막 내용 변경을 한 사람은 승인하거나 반려할 수 없습니다"),
            "\(own.stderr)")
        #expect(own.stderr.contains("(서버: record \(hotline): you made its latest content change"), "\(own.stderr)")
    }

    @Test func helpAndOptionErrorsAreInKoreanAndEnglishWithLANGC() throws {
        // Given no replica at all (help and option errors need none)
        let directory = try TemporaryDirectory()
        let device = Device("none", in: directory)
        let english = ["LANG": "C", "HAVEN_REPLICA": device.replica]

        // When `haven sync --help` is asked in Korean, Then the abstract and each option's help are Korean
        let sync = try haven(device, "sync", "--help")
        #expect(sync.status == 0)
        #expect(sync.stdout.contains("OVERVIEW: 보내지 않은 변경을 보낸 뒤 받습니다."), "\(sync.stdout)")
        #expect(sync.stdout.contains("멈출 때까지 계속 동기화합니다"), "\(sync.stdout)")
        #expect(sync.stdout.contains("요청 하나를 이만큼(초) 기다린 뒤 포기합니다."), "\(sync.stdout)")
        #expect(sync.stdout.contains("복제본 파일 (또는 HAVEN_REPLICA)."), "\(sync.stdout)")
        expectNoEnglish(
            sync.stdout,
            [
                "Push unsent changes", "Failed requests are retried", "Keep syncing", "Give up one request",
                "Most changes per push", "The replica file", "Print a JSON summary",
            ])

        // And `haven stories --help` lists each verb in Korean; `stories add --help` its fields and limits
        let stories = try haven(device, "stories", "--help")
        #expect(stories.stdout.contains("OVERVIEW: 이야기를 추가하고, 나열하고, 보여 주고, 고치고, 삭제하고, 되살립니다."))
        #expect(stories.stdout.contains("이야기 초안을 검토에 올립니다 (status review)."), "\(stories.stdout)")
        expectNoEnglish(stories.stdout, ["Add, list, show", "Submit a story", "Delete a story", "Bring a deleted"])
        let add = try haven(device, "stories", "add", "--help")
        #expect(add.stdout.contains("저장하기 전에 서버와 똑같이 확인하는 한도: "), "\(add.stdout)")
        #expect(add.stdout.contains("글쓴이의 필명 (실명은 절대 쓰지 마세요)."), "\(add.stdout)")
        expectNoEnglish(add.stdout, ["Limits, checked", "Author pseudonym", "Body text", "Read the body"])

        // When an option is out of range, Then Haven's refusal is Korean, naming the option as typed
        let batch = try haven(device, "sync", "--batch-size", "0")
        #expect(batch.status != 0)
        #expect(batch.stderr.contains("--batch-size: 1부터 1000까지의 수를 주세요"), "\(batch.stderr)")
        let limit = try haven(device, "search", "물", "--limit", "5000")
        #expect(limit.stderr.contains("--limit: 1부터 1000까지의 수를 주세요"), "\(limit.stderr)")
        let status = try haven(device, "stories", "list", "--status", "gone")
        #expect(status.stderr.contains("--status: 다음 중 하나를 주세요: draft, review, published"), "\(status.stderr)")
        expectNoEnglish(batch.stderr + limit.stderr + status.stderr, ["must be", "one of"])

        // And with LANG=C all of it is English, as before
        let helpInEnglish = try run(Binaries.url("haven"), ["sync", "--help"], environment: english, in: directory)
        #expect(helpInEnglish.stdout.contains("OVERVIEW: Push unsent changes, then pull."), "\(helpInEnglish.stdout)")
        let batchInEnglish = try run(Binaries.url("haven"), ["sync", "--batch-size", "0"], environment: english, in: directory)
        #expect(batchInEnglish.stderr.contains("--batch-size must be from 1 to 1000"), "\(batchInEnglish.stderr)")
        #expect(!hasHangul(helpInEnglish.stdout + batchInEnglish.stderr))
    }
}
