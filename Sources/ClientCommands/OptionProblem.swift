import ArgumentParser
import HavenClient
import HavenCore

/// What is wrong with an option's value, as `validate()` says it: the option's name as typed,
/// then what to give, in the person's language.
enum OptionProblem {
    /// A number outside `range`, in `seconds` when the option counts them.
    static func outOfRange(_ option: String, _ range: ClosedRange<Int>, seconds: Bool = false) -> ArgumentParser.ValidationError {
        let (low, high) = (range.lowerBound, range.upperBound)
        return refusal(
            seconds
                ? Words(
                    "\(option) must be from \(low) to \(high) seconds", korean: "\(option): \(low)초부터 \(high)초까지로 주세요")
                : Words("\(option) must be from \(low) to \(high)", korean: "\(option): \(low)부터 \(high)까지의 수를 주세요"))
    }

    /// A number below `minimum` (`--limit`, `--retry-for`).
    static func below(_ option: String, _ minimum: Int, seconds: Bool = false) -> ArgumentParser.ValidationError {
        refusal(
            seconds
                ? Words("\(option) must be \(minimum) or more seconds", korean: "\(option): \(minimum)초 이상으로 주세요")
                : Words("\(option) must be \(minimum) or more", korean: "\(option): \(minimum) 이상의 수를 주세요"))
    }

    /// A value that is none of `allowed`.
    static func notOneOf(_ option: String, _ allowed: [String]) -> ArgumentParser.ValidationError {
        let list = allowed.joined(separator: ", ")
        return refusal(Words("\(option) must be one of \(list)", korean: "\(option): 다음 중 하나를 주세요: \(list)"))
    }

    /// `--language` that is not a BCP 47 tag.
    static var notLanguageTag: ArgumentParser.ValidationError {
        refusal(
            Words(
                "--language must be a language tag such as en, ko or zh-Hant",
                korean: "--language: en, ko, zh-Hant 같은 언어 태그를 주세요"))
    }

    /// `words` in the language of this task, as ArgumentParser shows it with the usage.
    static func refusal(_ words: Words) -> ArgumentParser.ValidationError {
        ArgumentParser.ValidationError(words.text)
    }
}
