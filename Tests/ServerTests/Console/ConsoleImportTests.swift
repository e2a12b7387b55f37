import Foundation
import HTTPTypes
import HavenCore
import Hummingbird
import HummingbirdTesting
import Testing
import TestSupport

@testable import HavenServer

/// Content packs in the console: a preview that writes nothing, an import that writes exactly
/// what was previewed as the editor's push, and an export that imports back as no change.
struct ConsoleImportTests {
    static func pack(_ records: [ContentPack.Record], date: String? = nil) throws -> Data {
        try ContentPack(records: records, date: date).canonicalJSON()
    }

    static let shelter = ContentPack.Record(id: RecordID.random(), kind: .resource, fields: Fields.resource("한빛 쉼터"))
    static let hotline = ContentPack.Record(id: RecordID.random(), kind: .resource, fields: Fields.resource("상담전화 1577"))

    /// A signed-in editor's browser on the import page.
    static func browser(_ client: any TestClientProtocol, _ token: String) async throws -> ConsoleBrowser {
        var browser = ConsoleBrowser(client)
        try await browser.signIn(token)
        _ = try await browser.get("/console/import")
        return browser
    }

    @Test(arguments: StorageBackend.all) func aPreviewWritesNothingAndTheConfirmedImportIsTheEditorsPush(
        _ backend: StorageBackend
    ) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            let browser = try await Self.browser(client, server["editor"])

            // When a pack of two resources is previewed
            let preview = try await browser.postFile(
                "/console/import", [:], file: ("pack", "pack.json", try Self.pack([Self.shelter, Self.hotline])))

            // Then both are shown as added, with their fields, and nothing is written
            #expect(preview.status == .ok)
            #expect(preview.text.contains("Would add 2, update 0"))
            #expect(preview.text.contains("한빛 쉼터") && preview.text.contains("+82 2 1577 0000"))
            #expect(try await client.pull(token: server["reader"]).changes.isEmpty)

            // When the editor confirms it
            let confirmed = try await browser.post(
                "/console/import/confirm",
                [
                    "pack": try #require(ConsoleBrowser.hidden("pack", in: preview.text)),
                    "fingerprint": try #require(ConsoleBrowser.hidden("fingerprint", in: preview.text)),
                ])

            // Then readers receive both, written by the editor's token
            #expect(confirmed.status == .ok)
            #expect(confirmed.text.contains("2 added"))
            let pulled = try await client.pull(token: server["reader"]).changes
            #expect(Set(pulled.map(\.id)) == [Self.shelter.id, Self.hotline.id])
            let history = try await server.log.history(
                of: Self.shelter.id, for: Caller(tokenID: server.ids["admin"]!, name: "admin", role: .admin))
            #expect(history.entries.map(\.author) == ["editor"])
        }
    }

    @Test func aRecordChangedAfterThePreviewStopsTheImportAndShowsWhatItWouldDoNow() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            var device = Device("d1")
            _ = try await client.push(
                [device.change(Self.hotline.id, .resource, Fields.resource("상담전화 1577"))], token: server["editor"])
            let browser = try await Self.browser(client, server["editor"])
            var changed = Self.hotline
            changed.fields["phone"] = "+82 2 1577 2222"
            let preview = try await browser.postFile(
                "/console/import", ["overwrite": "on"], file: ("pack", "pack.json", try Self.pack([changed])))
            #expect(preview.text.contains("+82 2 1577 2222"))

            // When someone changes the record after the preview was read
            let cursor = try await client.pull(token: server["editor"]).cursor
            var other = Device("d2", wallTime: TestServer.now + 1_000)
            let meanwhile = try await client.push(
                [other.change(Self.hotline.id, .resource, ["phone": "+82 2 1577 3333"], base: cursor)], token: server["editor2"])
            #expect(meanwhile.statuses == [.applied])
            let confirmed = try await browser.post(
                "/console/import/confirm",
                [
                    "pack": try #require(ConsoleBrowser.hidden("pack", in: preview.text)), "overwrite": "on",
                    "fingerprint": try #require(ConsoleBrowser.hidden("fingerprint", in: preview.text)),
                ])

            // Then nothing is written, and the page shows the import as it would be now
            #expect(confirmed.status == .conflict)
            #expect(confirmed.text.contains("Records changed since the preview: nothing was imported"))
            #expect(confirmed.text.contains("+82 2 1577 3333"))
            let phone = try await client.pull(token: server["reader"]).changes.first?.values["phone"]
            #expect(phone == "+82 2 1577 3333")
        }
    }

    @Test func underTwoPersonReviewAPackThatWouldPublishIsRefusedWhole() async throws {
        let server = try await TestServer.make(configuration: ServerConfiguration())
        try await server.test { client in
            let browser = try await Self.browser(client, server["editor"])
            let preview = try await browser.postFile(
                "/console/import", [:], file: ("pack", "pack.json", try Self.pack([Self.shelter, Self.hotline])))
            #expect(preview.status == .unprocessableContent)
            #expect(preview.text.contains("2 of 2 records would be refused, so nothing is imported"))
            #expect(!preview.text.contains("name=\"fingerprint\""))
            #expect(try await client.pull(token: server["admin"]).changes.isEmpty)
        }
    }

    @Test func aBrokenFileOrAFormFromNoSessionIsRefusedInWords() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            var browser = try await Self.browser(client, server["editor"])
            let broken = try await browser.postFile("/console/import", [:], file: ("pack", "pack.json", Data("{\"records\": 3".utf8)))
            #expect(broken.status == .unprocessableContent)
            #expect(broken.text.contains("This file is not a pack that can be imported; nothing was imported"))
            let empty = try await browser.postFile("/console/import", [:], file: ("pack", "", Data()))
            #expect(empty.text.contains("Choose a pack file"))

            // A pack too large to post back for confirmation is sent to haven-server import
            let large = Data(String(repeating: " ", count: 6_400_000).utf8)
            let tooLarge = try await browser.postFile("/console/import", [:], file: ("pack", "big.json", large))
            #expect(tooLarge.status == .contentTooLarge)
            #expect(tooLarge.text.contains("too large to import in the console: import it with &#39;haven-server import --dry-run&#39;"))

            // A form without the session's form key (another site's, say) is refused
            browser.formKey = "forged"
            let forged = try await browser.postFile("/console/import", [:], file: ("pack", "p.json", try Self.pack([Self.shelter])))
            #expect(forged.status == .forbidden)
            let confirm = try await browser.post("/console/import/confirm", ["pack": Data().base64EncodedString()])
            #expect(confirm.status == .forbidden)
            #expect(try await client.pull(token: server["admin"]).changes.isEmpty)
        }
    }

    @Test func anExportImportsBackAsNoChangeAndIsForEditorsOnly() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            var device = Device("d1")
            _ = try await client.push(
                [
                    device.change(Self.shelter.id, .resource, Self.shelter.fields),
                    device.change(Self.hotline.id, .resource, Self.hotline.fields),
                ], token: server["editor"])
            var browser = try await Self.browser(client, server["editor"])

            // When the resources named 쉼터 are exported
            let exported = try await browser.get("/console/export?q=%EC%89%BC%ED%84%B0")
            #expect(exported.headers[.contentDisposition] == "attachment; filename=\"haven-pack.json\"")
            let pack = try ContentPack.decode(Data(exported.body.readableBytesView))
            #expect(pack.records.map(\.id) == [Self.shelter.id])
            #expect(pack.records.first?.version != nil)

            // Then importing the file back would change nothing
            let preview = try await browser.postFile("/console/import", [:], file: ("pack", "p.json", Data(exported.body.readableBytesView)))
            #expect(preview.text.contains("Importing this pack would change nothing."))

            // And a field token gets no export
            var field = ConsoleBrowser(client)
            try await field.signIn(server["field"])
            #expect(try await field.get("/console/export").status == .forbidden)
        }
    }

    @Test func aMultipartBodyIsReadAsABrowserSendsIt() {
        let body = Data(
            ("--xyz\r\nContent-Disposition: form-data; name=\"form_key\"\r\n\r\nk1\r\n"
                + "--xyz\r\nContent-Disposition: form-data; name=\"pack\"; filename=\"a.json\"\r\nContent-Type: application/json\r\n\r\n"
                + "{\"a\":\r\n\"--xy\"}\r\n--xyz\r\nContent-Disposition: form-data\r\n\r\nnameless\r\n--xyz--\r\n").utf8)
        #expect(MultipartBody.boundary(in: "multipart/form-data; boundary=\"xyz\"") == "xyz")
        #expect(MultipartBody.boundary(in: "multipart/form-data") == nil)
        let parts = MultipartBody.parts(of: body, boundary: "xyz")
        #expect(parts.map(\.name) == ["form_key", "pack"])
        #expect(parts.last?.filename == "a.json")
        #expect(parts.last.map { String(decoding: $0.content, as: UTF8.self) } == "{\"a\":\r\n\"--xy\"}")
    }
}
