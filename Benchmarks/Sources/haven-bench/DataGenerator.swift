import Foundation
import HavenCore

/// A seeded generator of realistic content: the same records on every run for the same seed.
///
/// Stories have 1 to 8 KB of body text (UTF-8 bytes; less in issue 20's data set), mostly in
/// their own language with phrases of the other mixed in, as field notes in Korean and English
/// are written; resources have every field the schema knows. Two records in three are stories.
struct DataGenerator {
    private var random: SplitMix64
    /// UTF-8 bytes of a story's body, drawn evenly from this range.
    let storyBodyBytes: ClosedRange<Int>

    /// The bodies of issue 6's data set: 1 to 8 KB.
    static let longStories = 1_024...8_191
    /// The bodies of issue 20's data set, on which Kinto was measured: short enough that 1,000
    /// stories and 500 resources come to about 600 KB as one gzip stream, as the issue's
    /// slow-link rows ask (586 KiB with seed 7). A story is then about 1.2 KB as packed (JSON
    /// without stamps) and a record about 1.8 KB as a replica holds it (with stamps).
    static let shortStories = 200...800

    init(seed: UInt64, storyBodyBytes: ClosedRange<Int> = longStories) {
        random = SplitMix64(seed: seed)
        self.storyBodyBytes = storyBodyBytes
    }

    /// `count` records: stories and resources interleaved two to one.
    mutating func records(_ count: Int) -> [ContentPack.Record] {
        (0..<count).map { index in index % 3 == 2 ? resource() : story() }
    }

    /// `stories` stories then `resources` resources.
    mutating func records(stories: Int, resources: Int) -> [ContentPack.Record] {
        (0..<stories).map { _ in story() } + (0..<resources).map { _ in resource() }
    }

    mutating func story() -> ContentPack.Record {
        let korean = random.next(below: 2) == 0
        let bodyBytes = storyBodyBytes.lowerBound + random.next(below: storyBodyBytes.count)
        var fields: [String: JSONValue] = [
            "title": .string(String(sentence(korean: korean, words: 4 + random.next(below: 7)).dropLast())),
            "summary": .string(paragraph(korean: korean, bytes: 120 + random.next(below: 240))),
            "body": .string(text(korean: korean, bytes: bodyBytes)),
            "language": .string(korean ? "ko" : "en"),
            "tags": .array((0..<(1 + random.next(below: 5))).map { _ in .string(pick(Self.tags)) }),
            "author": .string(pick(Self.pseudonyms)),
            "region": .string(pick(Self.regions)),
            "status": "published",
            "sensitivity": "public",
        ]
        // Drawn as before, so the rest of the seeded data set stays the same. A pack no longer
        // names media: a story's files are uploaded with `haven media add` (issue 17), and a
        // reference is an object naming a file the server holds.
        if random.next(below: 10) == 0 { _ = hex(bytes: 32) }
        return ContentPack.Record(id: uuid(), kind: .story, fields: fields)
    }

    mutating func resource() -> ContentPack.Record {
        let korean = random.next(below: 2) == 0
        let country = pick(Self.countries)
        let fields: [String: JSONValue] = [
            "name": .string(String(sentence(korean: korean, words: 3 + random.next(below: 4)).dropLast())),
            "category": .string(pick(RecordSchema.categories)),
            "description": .string(text(korean: korean, bytes: 200 + random.next(below: 1300))),
            "country": .string(country),
            "region": .string(pick(Self.regions)),
            "address": .string("\(1 + random.next(below: 400)) \(pick(Self.streets)), \(pick(Self.regions))"),
            "phone": .string("+82 2 \(1000 + random.next(below: 9000)) \(1000 + random.next(below: 9000))"),
            "url": .string("https://\(pick(Self.hosts)).example.org/\(hex(bytes: 4))"),
            "languages": .array(korean ? ["ko", "en"] : ["en", "ko", "zh-Hant"].prefix(1 + random.next(below: 3)).map { .string($0) }),
            "hours": .string(pick(Self.hours)),
            "verifiedAt": .string(String(format: "2026-%02d-%02d", 1 + random.next(below: 12), 1 + random.next(below: 28))),
            "status": "published",
        ]
        return ContentPack.Record(id: uuid(), kind: .resource, fields: fields)
    }

    /// A value for an edited field: a new summary.
    mutating func summary() -> String {
        paragraph(korean: random.next(below: 2) == 0, bytes: 120 + random.next(below: 240))
    }

    mutating func next(below bound: Int) -> Int { random.next(below: bound) }

    // MARK: - Text

    /// Paragraphs of sentences until `bytes` UTF-8 bytes, give or take a sentence.
    private mutating func text(korean: Bool, bytes: Int) -> String {
        var out = ""
        while out.utf8.count < bytes {
            if !out.isEmpty { out += "\n\n" }
            out += paragraph(korean: korean, bytes: min(bytes - out.utf8.count, 300 + random.next(below: 700)))
        }
        return out
    }

    private mutating func paragraph(korean: Bool, bytes: Int) -> String {
        var out = ""
        while out.utf8.count < bytes {
            if !out.isEmpty { out += " " }
            // One sentence in eight is in the other language: quotes, place names, terms.
            let mixed = random.next(below: 8) == 0 ? !korean : korean
            out += sentence(korean: mixed, words: 6 + random.next(below: 14))
        }
        return out
    }

    private mutating func sentence(korean: Bool, words: Int) -> String {
        let list = korean ? Self.koreanWords : Self.englishWords
        var parts = (0..<words).map { _ in pick(list) }
        if !korean, let first = parts.first { parts[0] = first.prefix(1).uppercased() + first.dropFirst() }
        if random.next(below: 6) == 0 { parts.insert(String(1990 + random.next(below: 36)), at: random.next(below: parts.count)) }
        return parts.joined(separator: " ") + (random.next(below: 10) == 0 ? "?" : ".")
    }

    private mutating func pick<T>(_ list: [T]) -> T { list[random.next(below: list.count)] }

    private mutating func hex(bytes: Int) -> String {
        (0..<bytes).map { _ in String(format: "%02x", random.next(below: 256)) }.joined()
    }

    private mutating func uuid() -> String {
        let h = hex(bytes: 16)
        let c = Array(h)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-4" + String(c[13..<16]) + "-a" + String(c[17..<20])
            + "-" + String(c[20..<32])
    }

    // MARK: - Vocabulary

    static let englishWords = """
        the a of and to in for on with from by at after before during across through women woman family families \
        mother daughter sister children child broker brokers border river Tumen Yalu China Chinese Laos Thailand \
        Bangkok Seoul Hanawon centre shelter hotline counsellor counselling lawyer legal aid job training school \
        market jangmadang famine ration food work wage trade smuggling phone call money remittance debt route \
        journey night winter mountain train bus car walk hide hiding arrest repatriation detention police \
        interrogation camp prison fear hope safety trust help support group church volunteer teacher nurse doctor \
        clinic medicine health trauma sleep memory story testimony interview notes visit meeting month year week \
        day first last long short hard new old small large many few every some other own same local national \
        South North Korean Korea refugee refugees defector resettlement settlement apartment housing rent \
        benefit allowance registration identity card document documents passport visa embassy consulate \
        interpreter language English Korean class exam certificate licence driving cooking sewing factory shop \
        office cleaner carer care elderly son husband marriage divorce violence abuse shelter safe house \
        escape crossing guide guides fee paid waited waiting travelled arrived stayed left returned found lost \
        said told asked wrote learned started finished needed wanted could would should might must did was were \
        had has have is are be been being not only also still again never always often sometimes because \
        while although when where who which that this these those their her she they we our us them it its
        """.split(whereSeparator: \.isWhitespace).map(String.init)

    static let koreanWords = """
        탈북 여성 가족 어머니 딸 언니 동생 아이 아이들 브로커 국경 두만강 압록강 중국 라오스 태국 방콕 서울 \
        하나원 센터 쉼터 상담 상담사 변호사 법률 지원 일자리 직업 훈련 학교 장마당 시장 식량 배급 \
        노동 임금 장사 밀수 전화 송금 빚 경로 여정 밤 겨울 산 기차 버스 걸어서 숨어서 체포 강제북송 \
        구금 경찰 조사 수용소 감옥 두려움 희망 안전 신뢰 도움 단체 교회 자원봉사자 선생님 간호사 의사 \
        병원 약 건강 트라우마 잠 기억 이야기 증언 면담 기록 방문 회의 달 해 주 날 처음 마지막 새로운 \
        많은 몇몇 모든 남한 북한 한국 난민 정착 아파트 주거 월세 지원금 등록 신분증 서류 여권 비자 \
        대사관 영사관 통역 언어 영어 한국어 수업 시험 자격증 면허 요리 봉제 공장 가게 사무실 청소 \
        돌봄 노인 아들 남편 결혼 이혼 폭력 학대 안전가옥 탈출 도강 안내 비용 기다렸다 도착했다 \
        머물렀다 떠났다 돌아왔다 찾았다 잃었다 말했다 물었다 배웠다 시작했다 끝냈다 필요했다 \
        그리고 하지만 그래서 그러나 다시 아직 항상 자주 때때로 왜냐하면 그녀는 그들은 우리는 \
        함께 혼자 먼저 나중에 오래 조금 많이 정말 가장 매우 에서 으로 에게 와 과 의 를 을 이 가 는 은
        """.split(whereSeparator: \.isWhitespace).map(String.init)

    static let tags = [
        "testimony", "resettlement", "legal", "health", "education", "employment", "housing", "China", "route",
        "family", "trauma", "hanawon", "news", "guidance", "탈북", "정착", "증언", "교육", "법률", "건강",
    ]
    static let pseudonyms = ["Amina", "Bora", "Jiyoung", "Mirae", "Sunhee", "Eunji", "Haneul", "Dawn", "Hope", "River"]
    static let regions = [
        "Seoul", "Incheon", "Gyeonggi", "Busan", "Daegu", "Gwangju", "Jilin", "Liaoning", "Yanbian", "Bangkok",
        "Vientiane", "London", "New Malden", "서울", "인천", "경기", "부산",
    ]
    static let countries = ["KR", "KR", "KR", "CN", "TH", "LA", "GB", "US", "JP", "DE", "CA"]
    static let streets = ["Sejong-daero", "Teheran-ro", "Jongno", "Itaewon-ro", "High Street", "Station Road", "세종대로"]
    static let hosts = ["help", "hana", "shelter", "legal-aid", "counsel", "nkwomen", "jobs", "school"]
    static let hours = [
        "24 hours, every day", "Mon-Fri 09:00-18:00 KST", "Weekdays 10:00-17:00", "평일 09:00-18:00",
        "Tue and Thu evenings", "By appointment",
    ]
}

/// SplitMix64 (Steele, Lea and Flood, 2014): small, fast and the same on every platform.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in 0..<bound (bound > 0), with negligible bias for the small bounds used here.
    mutating func next(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
