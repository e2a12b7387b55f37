import HavenCore

extension RecordForm {
    /// Fields typed as paragraphs.
    static let longFields: Set = ["body", "summary", "description", "reviewComment"]

    /// The values a field may take, when it is a choice.
    static func choices(of field: String, kind: RecordKind) -> [String]? {
        switch (kind, field) {
        case (_, "status"): RecordSchema.statuses
        case (.story, "sensitivity"): RecordSchema.sensitivities
        case (.resource, "category"): RecordSchema.categories
        default: nil
        }
    }

    /// Every known field as a labelled input holding what was typed, with its problem in words
    /// right after it.
    func inputs(on page: ConsolePage) -> HTML {
        let required = RecordSchema.requiredFields(of: kind)
        let fields = Self.fields(of: kind).map { field -> HTML in
            let id = "field-\(field)"
            let value = typed[field] ?? ""
            let problem = problems[field]
            let described: HTML = problem == nil ? "" : " aria-invalid=\"true\" aria-describedby=\"problem-\(field)\""
            let isRequired: HTML = required.contains(field) ? " required" : ""
            let input: HTML
            if let choices = Self.choices(of: field, kind: kind) {
                let options = ((required.contains(field) ? [] : [""]) + choices).map { choice -> HTML in
                    let selected: HTML = choice == value ? " selected" : ""
                    return "<option value=\"\(choice)\"\(selected)>\(choice)</option>"
                }
                input = "<select id=\"\(id)\" name=\"\(field)\"\(described)>\(options)</select>"
            } else if Self.longFields.contains(field) {
                input = "<textarea id=\"\(id)\" name=\"\(field)\"\(isRequired)\(described)>\(value)</textarea>"
            } else {
                input = "<input type=\"text\" id=\"\(id)\" name=\"\(field)\" value=\"\(value)\"\(isRequired)\(described)>"
            }
            let hint: HTML =
                Self.listFields.contains(field)
                ? " <small>(\(page.text(Words("separated by commas", korean: "쉼표로 구분"))))</small>" : ""
            let message: HTML =
                problem.map { "<p class=\"error\" id=\"problem-\(field)\">\(page.text($0))</p>" } ?? ""
            let mark = required.contains(field) ? " *" : ""
            return "<label for=\"\(id)\">\(field)\(mark)\(hint)</label>\(input)\(message)\n"
        }
        return HTML(joining: fields)
    }
}
