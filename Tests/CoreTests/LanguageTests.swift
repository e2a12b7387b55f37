import Foundation
import HavenCore
import Testing
import TestSupport

/// Which language `haven` speaks (Language.swift): the POSIX order of the variables, Korean
/// only in UTF-8, English otherwise; and the words that follow it.
struct LanguageTests {
    static let table: [(environment: [String: String], language: Language)] = [
        ([:], .english),
        (["LANG": "C"], .english),
        (["LANG": "en_US.UTF-8"], .english),
        (["LANG": "ko_KR.UTF-8"], .korean),
        (["LANG": "ko_KR.utf8"], .korean),
        (["LANG": "ko_KR"], .korean),
        (["LANG": "ko"], .korean),
        (["LANG": "ko_KR.UTF-8@latin"], .korean),
        // A terminal in EUC-KR would show haven's UTF-8 garbled.
        (["LANG": "ko_KR.EUC-KR"], .english),
        // Konkani, not Korean.
        (["LANG": "kok_IN"], .english),
        (["LC_ALL": "C", "LANG": "ko_KR.UTF-8"], .english),
        (["LC_ALL": "ko_KR.UTF-8", "LC_MESSAGES": "C", "LANG": "C"], .korean),
        (["LC_MESSAGES": "en_US.UTF-8", "LANG": "ko_KR.UTF-8"], .english),
        (["LC_MESSAGES": "ko_KR.UTF-8", "LANG": "C"], .korean),
        // Set but empty counts as not set.
        (["LC_ALL": "", "LC_MESSAGES": "", "LANG": "ko_KR.UTF-8"], .korean),
    ]

    @Test(arguments: table.indices)
    func choosesAsPOSIXDoes(_ index: Int) {
        let row = Self.table[index]
        #expect(Language(environment: row.environment) == row.language, "\(row.environment)")
    }

    @Test func wordsFollowTheLanguageOfTheTaskAndEnglishIsTheDefault() {
        let words = Words("nothing was saved", korean: "아무것도 저장하지 않았습니다")
        #expect(words.text == "nothing was saved")
        Language.$current.withValue(.korean) {
            #expect(words.text == "아무것도 저장하지 않았습니다")
            #expect("\(words)" == "아무것도 저장하지 않았습니다")
        }
        #expect([words, words].joined(separator: Words("; ", korean: ". ")).korean == "아무것도 저장하지 않았습니다. 아무것도 저장하지 않았습니다")
    }

    @Test func aFieldRefusedByTheSchemaIsSaidInKoreanAndAnsweredInEnglish() throws {
        let long = JSONValue.string(String(repeating: "탈", count: 201))
        let error = #expect(throws: ValidationError.self) { try RecordSchema.validate(field: "title", value: long, kind: .story) }
        #expect(error?.message == "title: must be at most 200 characters (has 201)")
        #expect(error?.words.korean == "title: 200글자까지 쓸 수 있습니다 (지금 201글자)")
        #expect(Language.$current.withValue(.korean) { error.map { "\($0)" } } == "title: 200글자까지 쓸 수 있습니다 (지금 201글자)")
        #expect(error?.code == .invalidField)
    }

    @Test func aMissingFileIsSaidInBothLanguagesNamingIt() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("haven-no-such-\(UUID()).token").path
        let words = FileProblem.reading(path, purpose: .tokenFile)
        #expect(words.english.hasPrefix("cannot read the token file \(path): there is no such file"))
        #expect(words.korean.hasPrefix("토큰 파일(\(path))을 읽을 수 없습니다: 그런 파일이 없습니다"), "\(words.korean)")
    }
}
