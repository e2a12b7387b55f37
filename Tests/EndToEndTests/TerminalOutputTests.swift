import Foundation
import HavenCore
import Synchronization
import Testing

/// Text from the server reaches a person's terminal with its control characters shown, never
/// obeyed (issue 19, item 14): a story must not clear the screen, retitle the window or hide a
/// line. `--json` stays exact JSON.
@Suite(.serialized) struct TerminalOutputTests {
    static let id = "55555555-5555-4555-8555-555555555555"
    /// Clear screen, a window title (OSC … BEL), a carriage return that would overwrite the
    /// line, and the 8-bit CSI and OSC.
    static let title = "Evil \u{1B}[2J\u{1B}]0;owned\u{07}title\rFAKE \u{9B}31m red \u{9D}0;x\u{9C}"
    static let body = "first line\u{1B}[1A\u{1B}[2K\nsecond\u{08}\u{08} line"
    static let rejection = "\u{1B}[31mthe server says no\u{1B}[0m"

    @Test func recordTextFromTheServerIsEscapedEverywhereItIsPrinted() async throws {
        // Given a server that sends a story, a conflict and a rejection full of control sequences
        let story = HostilePages.story(id: Self.id, title: Self.title, body: Self.body)
        let conflict = Conflict(
            recordID: Self.id, kind: .story, field: "summary", value: .string(Self.title), stamp: HostilePages.stamp(),
            winner: HostilePages.stamp(), winnerAuthor: "editor\u{1B}[8m", reason: .overwritten, recipient: "me")
        try await HostileServer.run({ request in
            guard request.isPush else { return .json(HostilePages.page([story], conflicts: [conflict])) }
            let changes = (try? JSONDecoder().decode(PushRequest.self, from: request.body).changes) ?? []
            let answer = PushResponse(
                results: changes.map {
                    PushResult(id: $0.id, status: .rejected, error: ErrorDetail(code: .forbidden, message: Self.rejection))
                },
                serverTime: HostilePages.stamp().physical)
            return .json(String(decoding: try! JSONEncoder().encode(answer), as: UTF8.self))
        }) { server in
            let device = try HostilePages.device(for: server)
            try await device.offPool("stories", "add", "--title", "Mine", "--body", "Offline", "--language", "en")
            try await device.offPool("sync", "--retry-for", "0")

            // When every command that prints record or server text runs
            let outputs = [
                try await device.offPool("stories", "list"),
                try await device.offPool("stories", "show", Self.id),
                try await device.offPool("search", "Evil"),
                try await device.offPool("conflicts"),
                try await device.offPool("status"),
            ]

            // Then no control character gets through, and each is shown in a visible form
            for output in outputs {
                #expect(Self.controls(in: output).isEmpty, "raw controls \(Self.controls(in: output)) in: \(output)")
            }
            #expect(outputs[1].contains(#"Evil \u001b[2J\u001b]0;owned\u0007title\u000dFAKE \u009b31m"#), "\(outputs[1])")
            #expect(outputs[3].contains(#"editor\u001b[8m"#), "\(outputs[3])")
            #expect(outputs[4].contains(#"\u001b[31mthe server says no"#), "\(outputs[4])")

            // And --json keeps the exact text
            let shown = try await device.offPool("stories", "show", Self.id, "--json")
            struct View: Decodable { var fields: [String: JSONValue] }
            let view = try JSONDecoder().decode(View.self, from: Data(shown.utf8))
            #expect(view.fields["title"] == .string(Self.title), "\(shown)")
            #expect(Self.controls(in: shown).isEmpty, "raw controls in JSON: \(shown)")
        }
    }

    @Test func serverErrorMessageIsEscapedOnStandardError() async throws {
        // Given a server whose error message holds control sequences
        let body = String(
            decoding: try JSONEncoder().encode(ErrorBody(ErrorDetail(code: .forbidden, message: Self.rejection))),
            as: UTF8.self)
        try await HostileServer.run({ _ in HostileServer.Answer(status: 403, body: Data(body.utf8)) }) { server in
            let device = try HostilePages.device(for: server)

            // When a pull fails with it
            let result = try await device.offPoolResult(["pull", "--retry-for", "0"])

            // Then the message is shown, its controls escaped
            #expect(result.status != 0)
            #expect(result.stderr.contains(#"\u001b[31mthe server says no"#), "\(result.stderr)")
            #expect(Self.controls(in: result.stderr).isEmpty, "\(result.stderr)")
        }
    }

    /// The C0 controls other than newline and tab, DEL and the C1 controls found in `text`.
    static func controls(in text: String) -> [String] {
        text.unicodeScalars.filter { scalar in
            (scalar.value < 0x20 && scalar != "\n" && scalar != "\t") || (0x7F...0x9F).contains(scalar.value)
        }.map { String(format: "U+%04X", $0.value) }
    }
}
