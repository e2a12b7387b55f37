import Foundation
import HTTPTypes
import HavenCore
import Hummingbird
import HummingbirdTesting
import Testing
import TestSupport

@testable import HavenServer

/// Editing in the console: the schema's words beside the field, what was typed kept, and every
/// change written as a push by the signed-in token.
struct ConsoleEditingTests {
    static let badResource = [
        "kind": "resource", "name": "서울 상담전화", "category": "hotline", "country": "KR", "phone": "call us",
        "status": "published",
    ]

    @Test func aBadPhoneIsNamedBesideItsFieldAndWhatWasTypedIsKept() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let browser = try await ConsoleBrowser.atNewResource(client, token: server["editor"])

            // When a resource is posted with a phone number made of words
            let answer = try await browser.post("/console/records/new", Self.badResource)

            // Then the form comes back with the schema's words next to the phone, and what was typed
            #expect(answer.status == .unprocessableContent)
            #expect(answer.text.contains("<p class=\"error\" id=\"problem-phone\">phone: may hold only digits, spaces and + - ( )</p>"))
            #expect(answer.text.contains("value=\"call us\""))
            #expect(answer.text.contains("value=\"서울 상담전화\""))
            #expect(try await client.pull(token: server["editor"]).changes.isEmpty)

            // And in Korean when the browser asks for it
            let korean = try await browser.post(
                "/console/records/new", Self.badResource, headers: [.acceptLanguage: "ko-KR,ko;q=0.9,en;q=0.5"])
            #expect(korean.text.contains("phone: 숫자, 공백, + - ( )만 쓸 수 있습니다"))
        }
    }

    @Test func aCreatedRecordIsWrittenAsAPushByTheEditorsToken() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let browser = try await ConsoleBrowser.atNewResource(client, token: server["editor"])

            // When the phone is corrected and the form posted again
            let answer = try await browser.post(
                "/console/records/new", Self.badResource.merging(["phone": "+82 2 1577 0000"]) { $1 })

            // Then it is saved, and a reader pulls it as any published change
            #expect(answer.status == .seeOther)
            let pulled = try await client.pull(token: server["reader"]).changes
            try #require(pulled.count == 1)
            #expect(pulled[0].fields["phone"]?.value == "+82 2 1577 0000")
            #expect(pulled[0].fields["phone"]?.stamp.replica.rawValue == "console\(server.ids["editor"]!)")
            // And its history names the editor as the author
            let history = try await server.log.history(
                of: pulled[0].id, for: Caller(tokenID: server.ids["admin"]!, name: "admin", role: .admin))
            #expect(history.entries.map(\.author) == ["editor"])
        }
    }

    @Test(arguments: StorageBackend.all) func anEditWritesOnlyWhatChangedAndDeleteAndRestoreWork(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        var device = Device("d1")
        let id = RecordID.random()
        let created = [device.change(id, .resource, Fields.resource("Old name").merging(["extra": "kept"]) { $1 })]
        try await server.test { client in
            _ = try await client.push(created, token: server["editor"])
            var browser = ConsoleBrowser(client)
            try await browser.signIn(server["editor2"])
            let form = try await browser.get("/console/records/\(id)/edit").text
            let base = try #require(form.range(of: "name=\"base\" value=\"").map { String(form[$0.upperBound...].prefix { $0 != "\"" }) })

            // When the name is changed
            var fields = ["name": "New name", "category": "hotline", "country": "KR", "phone": "+82 2 1577 0000",
                          "status": "published", "base": base]
            #expect(try await browser.post("/console/records/\(id)/edit", fields).status == .seeOther)

            // Then one change wrote the name alone; the field this version does not know is kept
            let history = try await server.log.history(
                of: id, for: Caller(tokenID: server.ids["admin"]!, name: "admin", role: .admin))
            #expect(history.entries.first?.fields.map(\.name) == ["name"])
            #expect(history.entries.first?.author == "editor2")
            var state = try #require(try await client.pull(token: server["editor"]).changes.first)
            #expect(state.fields["name"]?.value == "New name" && state.fields["extra"]?.value == "kept")

            // When it is deleted, then restored
            fields = ["base": base]
            #expect(try await browser.post("/console/records/\(id)/delete", fields).status == .seeOther)
            #expect(try await client.pull(token: server["reader"]).changes.isEmpty)
            #expect(try await browser.get("/console/records?status=deleted").text.contains("New name"))
            #expect(try await browser.post("/console/records/\(id)/restore", fields).status == .seeOther)
            state = try #require(try await client.pull(token: server["reader"]).changes.first)
            #expect(state.id == id)
        }
    }

    @Test(arguments: StorageBackend.all) func searchFindsKoreanTextAndFiltersNarrowIt(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        var device = Device("d1")
        let created = [
            device.change(RecordID.random(), .story, Fields.story("탈북 여성의 이야기", language: "ko")),
            device.change(RecordID.random(), .story, Fields.story("A story in English")),
            device.change(RecordID.random(), .resource, Fields.resource("탈북민 상담")),
        ]
        try await server.test { client in
            _ = try await client.push(created, token: server["editor"])
            var browser = ConsoleBrowser(client)
            try await browser.signIn(server["editor"])

            // When searching for a two-syllable Korean word
            let all = try await browser.get("/console/records?q=\(ConsoleBrowser.encode("탈북"))").text
            // Then both records that hold it are listed, not the English one
            #expect(all.contains("탈북 여성의 이야기") && all.contains("탈북민 상담"))
            #expect(!all.contains("A story in English"))
            // And the kind filter keeps only the resource
            let resources = try await browser.get("/console/records?q=\(ConsoleBrowser.encode("탈북"))&kind=resource").text
            #expect(resources.contains("탈북민 상담") && !resources.contains("탈북 여성의 이야기"))
            // And the language filter only the Korean story
            let korean = try await browser.get("/console/records?language=ko").text
            #expect(korean.contains("탈북 여성의 이야기") && !korean.contains("A story in English"))
        }
    }

    @Test(arguments: StorageBackend.all) func asAUserShowsExactlyWhatThatTokenPulls(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        var device = Device("d1")
        var field = Device("f1")
        let byEditor = [
            device.change(RecordID.random(), .story, Fields.story("Published one", status: "published")),
            device.change(RecordID.random(), .story, Fields.story("Editors draft")),
        ]
        let byField = [field.change(RecordID.random(), .story, Fields.story("Field draft"))]
        try await server.test { client in
            _ = try await client.push(byEditor, token: server["editor"])
            _ = try await client.push(byField, token: server["field"])
            var browser = ConsoleBrowser(client)
            try await browser.signIn(server["editor"])

            let asField = try await browser.get("/console/as?token=\(server.ids["field"]!)").text
            #expect(asField.contains("Published one") && asField.contains("Field draft") && !asField.contains("Editors draft"))
            let asReader = try await browser.get("/console/as?role=reader").text
            #expect(asReader.contains("Published one") && !asReader.contains("Field draft"))
            #expect(try await client.pull(token: server["field"]).changes.count == 2)
        }
    }

    @Test func anEditKeepsTheRecordsMediaAndTheFormDoesNotOfferThem() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            // Given a resource with a leaflet attached
            let leaflet = MediaTests.file(2_000)
            try await client.uploadWhole(leaflet, token: server["editor"])
            var device = Device("d1")
            let id = RecordID.random()
            var fields = Fields.resource("Old name")
            fields["media"] = MediaReference.field([MediaTests.reference(leaflet)])
            let created = try await client.push([device.change(id, .resource, fields)], token: server["editor"])
            try #require(created.statuses == [.applied])
            var browser = ConsoleBrowser(client)
            try await browser.signIn(server["editor2"])

            // When its page and its form are read, and the form saved with a new name
            let page = try await browser.get("/console/records/\(id)").text
            let form = try await browser.get("/console/records/\(id)/edit").text
            var posted = ["name": "New name", "category": "hotline", "country": "KR", "phone": "+82 2 1577 0000",
                          "status": "published"]
            posted["base"] = try #require(ConsoleBrowser.hidden("base", in: form))
            let saved = try await browser.post("/console/records/\(id)/edit", posted)

            // Then the record reads as valid, the form has no media input, and the media stay
            #expect(!page.contains("breaks the schema"))
            #expect(!form.contains("name=\"media\""))
            #expect(saved.status == .seeOther)
            let pulled = try await client.pull(token: server["reader"]).changes
            #expect(pulled.first?.values["name"] == "New name")
            #expect(pulled.first?.values["media"] == MediaReference.field([MediaTests.reference(leaflet)]))
        }
    }
}
