import ArgumentParser
import Foundation
import HavenCore

/// The field options of one record kind: what `add` and `edit` accept.
protocol RecordFields: ParsableArguments {
    static var kind: RecordKind { get }
    /// The fields given on the command line; `--set name=` with nothing clears a field.
    func values() throws -> [String: JSONValue]
    /// The list columns for this kind: a short header and the value of each row.
    static func listColumns(_ record: RecordState) -> [String]
    static var listHeader: [String] { get }
}

/// Options that every kind has.
struct CommonFieldOptions: ParsableArguments {
    @Option(help: "draft, review or published.") var status: String?
    @Option(help: "Region, such as Seoul or Yanbian.") var region: String?
    @Option(
        name: .customLong("set"),
        help: ArgumentHelp("Any field as name=value; the value is read as JSON when it is, else as text.", valueName: "name=value"))
    var extra: [String] = []

    func values(into values: inout [String: JSONValue]) throws {
        values["status"] = status.map(JSONValue.string)
        values["region"] = region.map(JSONValue.string)
        for assignment in extra {
            guard let equals = assignment.firstIndex(of: "=") else {
                throw ValidationError("--set \(assignment): write it as name=value")
            }
            let name = String(assignment[..<equals])
            let text = String(assignment[assignment.index(after: equals)...])
            values[name] = text.isEmpty ? .null : (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .string(text)
        }
    }
}

/// A comma-separated list option as a JSON array.
func list(_ text: String?) -> JSONValue? {
    text.map { .array($0.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 != "" }) }
}

struct StoryFields: RecordFields {
    static let kind = RecordKind.story
    @Option(help: "Title.") var title: String?
    @Option(help: "Body text.") var body: String?
    @Option(help: ArgumentHelp("Read the body from a file (- for standard input).", valueName: "path")) var bodyFile: String?
    @Option(help: "A short summary.") var summary: String?
    @Option(help: "BCP 47 language tag: en, ko, zh…") var language: String?
    @Option(help: "Comma-separated tags.") var tags: String?
    @Option(help: "Author pseudonym (never a legal name).") var author: String?
    @Option(help: "public or restricted.") var sensitivity: String?
    @OptionGroup var common: CommonFieldOptions

    func validate() throws {
        if body != nil && bodyFile != nil { throw ValidationError("give --body or --body-file, not both") }
    }

    func values() throws -> [String: JSONValue] {
        var values: [String: JSONValue] = [:]
        values["title"] = title.map(JSONValue.string)
        values["body"] = try (body ?? bodyFile.map(readText)).map(JSONValue.string)
        values["summary"] = summary.map(JSONValue.string)
        values["language"] = language.map(JSONValue.string)
        values["tags"] = list(tags)
        values["author"] = author.map(JSONValue.string)
        values["sensitivity"] = sensitivity.map(JSONValue.string)
        try common.values(into: &values)
        return values
    }

    static let listHeader = ["STATUS", "LANG", "TITLE"]
    static func listColumns(_ record: RecordState) -> [String] {
        [text(record, "status"), text(record, "language"), text(record, "title")]
    }
}

struct ResourceFields: RecordFields {
    static let kind = RecordKind.resource
    @Option(help: "Name.") var name: String?
    @Option(help: "hotline, shelter, legal, counselling, medical, education, employment, resettlement or other.")
    var category: String?
    @Option(help: "Description.") var description: String?
    @Option(help: "Two-letter country code, such as KR.") var country: String?
    @Option(help: "Street address.") var address: String?
    @Option(help: "Phone number.") var phone: String?
    @Option(help: "Web address.") var url: String?
    @Option(help: "Comma-separated language tags.") var languages: String?
    @Option(help: "Opening hours.") var hours: String?
    @Option(help: "Date last verified, YYYY-MM-DD.") var verifiedAt: String?
    @OptionGroup var common: CommonFieldOptions

    func values() throws -> [String: JSONValue] {
        var values: [String: JSONValue] = [:]
        values["name"] = name.map(JSONValue.string)
        values["category"] = category.map(JSONValue.string)
        values["description"] = description.map(JSONValue.string)
        values["country"] = country.map(JSONValue.string)
        values["address"] = address.map(JSONValue.string)
        values["phone"] = phone.map(JSONValue.string)
        values["url"] = url.map(JSONValue.string)
        values["languages"] = list(languages)
        values["hours"] = hours.map(JSONValue.string)
        values["verifiedAt"] = verifiedAt.map(JSONValue.string)
        try common.values(into: &values)
        return values
    }

    static let listHeader = ["CATEGORY", "CC", "NAME"]
    static func listColumns(_ record: RecordState) -> [String] {
        [text(record, "category"), text(record, "country"), text(record, "name")]
    }
}

private func text(_ record: RecordState, _ field: String) -> String {
    record.fields[field]?.value.stringValue ?? "-"
}

private func readText(_ path: String) throws -> String {
    let contents = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: path)
    guard let data = contents else { throw ValidationError(FileProblem.reading(path, purpose: .file).text) }
    guard let text = String(data: data, encoding: .utf8) else {
        throw ValidationError(
            Words("\(path) is not UTF-8 text", korean: "\(path): UTF-8 텍스트가 아닙니다 (UTF-8로 저장하세요)").text)
    }
    return text
}
