import ArgumentParser
import Foundation
import HavenClient
import HavenCore

/// The field options of one record kind: what `add` and `edit` accept.
protocol RecordFields: ParsableArguments {
    static var kind: RecordKind { get }
    /// The fields given on the command line; `--set name=` with nothing clears a field.
    func values() throws -> [String: JSONValue]
    /// The list columns for this kind: a short header and the value of each row.
    static func listColumns(_ record: RecordState) -> [String]
    static var listHeader: [Words] { get }
}

/// Options that every kind has.
struct CommonFieldOptions: ParsableArguments {
    @Option(help: ArgumentHelp(Words("draft, review or published.", korean: "draft, review 또는 published.")))
    var status: String?
    @Option(help: ArgumentHelp(Words("Region, such as Seoul or Yanbian.", korean: "지역 (예: Seoul, Yanbian).")))
    var region: String?
    @Option(
        name: .customLong("set"),
        help: ArgumentHelp(Words(
            "Any field as name=value; the value is read as JSON when it is, else as text.",
            korean: "아무 필드나 name=value로 줍니다. 값이 JSON이면 JSON으로, 아니면 텍스트로 읽습니다."), valueName: "name=value"))
    var extra: [String] = []

    func values(into values: inout [String: JSONValue]) throws {
        values["status"] = status.map(JSONValue.string)
        values["region"] = region.map(JSONValue.string)
        for assignment in extra {
            guard let equals = assignment.firstIndex(of: "=") else {
                throw OptionProblem.refusal(
                    Words(
                        "--set \(assignment): write it as name=value",
                        korean: "--set \(assignment): name=value 형식으로 쓰세요"))
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
    @Option(help: ArgumentHelp(Words("Title.", korean: "제목."))) var title: String?
    @Option(help: ArgumentHelp(Words("Body text.", korean: "본문."))) var body: String?
    @Option(
        help: ArgumentHelp(
            Words(
                "Read the body from a file (- for standard input).",
                korean: "본문을 파일에서 읽습니다 (-이면 표준 입력)."), valueName: "path"))
    var bodyFile: String?
    @Option(help: ArgumentHelp(Words("A short summary.", korean: "짧은 요약."))) var summary: String?
    @Option(help: ArgumentHelp(Words("BCP 47 language tag: en, ko, zh…", korean: "BCP 47 언어 태그: en, ko, zh…")))
    var language: String?
    @Option(help: ArgumentHelp(Words("Comma-separated tags.", korean: "쉼표로 구분한 태그."))) var tags: String?
    @Option(help: ArgumentHelp(Words("Author pseudonym (never a legal name).", korean: "글쓴이의 필명 (실명은 절대 쓰지 마세요).")))
    var author: String?
    @Option(help: ArgumentHelp(Words("public or restricted.", korean: "public 또는 restricted.")))
    var sensitivity: String?
    @OptionGroup var common: CommonFieldOptions

    func validate() throws {
        if body != nil && bodyFile != nil {
            throw OptionProblem.refusal(
                Words("give --body or --body-file, not both", korean: "--body와 --body-file 중 하나만 주세요"))
        }
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

    static let listHeader = [
        Words("STATUS", korean: "상태"), Words("LANG", korean: "언어"), Words("TITLE", korean: "제목"),
    ]
    static func listColumns(_ record: RecordState) -> [String] {
        [text(record, "status"), text(record, "language"), text(record, "title")]
    }
}

struct ResourceFields: RecordFields {
    static let kind = RecordKind.resource
    @Option(help: ArgumentHelp(Words("Name.", korean: "이름."))) var name: String?
    @Option(
        help: ArgumentHelp(
            Words(
                "hotline, shelter, legal, counselling, medical, education, employment, resettlement or other.",
                korean: "hotline, shelter, legal, counselling, medical, education, employment, resettlement 또는 other.")))
    var category: String?
    @Option(help: ArgumentHelp(Words("Description.", korean: "설명."))) var description: String?
    @Option(help: ArgumentHelp(Words("Two-letter country code, such as KR.", korean: "두 글자 국가 코드 (예: KR).")))
    var country: String?
    @Option(help: ArgumentHelp(Words("Street address.", korean: "주소."))) var address: String?
    @Option(help: ArgumentHelp(Words("Phone number.", korean: "전화번호."))) var phone: String?
    @Option(help: ArgumentHelp(Words("Web address.", korean: "웹 주소."))) var url: String?
    @Option(help: ArgumentHelp(Words("Comma-separated language tags.", korean: "쉼표로 구분한 언어 태그.")))
    var languages: String?
    @Option(help: ArgumentHelp(Words("Opening hours.", korean: "운영 시간."))) var hours: String?
    @Option(help: ArgumentHelp(Words("Date last verified, YYYY-MM-DD.", korean: "마지막으로 확인한 날짜, YYYY-MM-DD.")))
    var verifiedAt: String?
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

    static let listHeader = [
        Words("CATEGORY", korean: "분류"), Words("CC", korean: "국가"), Words("NAME", korean: "이름"),
    ]
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
