import HavenCore

extension ErrorCode {
    /// A refusal by the server's rules in Korean: what this code means, for the rules the client
    /// knows, then the rule's own English `message` quoted. The server speaks English only; an
    /// app shows this beside it to a person who reads Korean.
    ///
    /// For example, `ErrorCode.selfReview.koreanRefusal(quoting: message)`.
    public func koreanRefusal(quoting message: String) -> String {
        koreanMeaning.map { "\($0) (서버: \(message))" } ?? "서버: \(message)"
    }

    /// What this code means, in Korean, for the rules the client knows.
    private var koreanMeaning: String? {
        switch self {
        case .reviewRequired: "검토를 거쳐야 합니다: 검토에 올린 뒤 다른 편집자나 관리자가 승인해야 게시됩니다"
        case .selfReview: "마지막 내용 변경을 한 사람은 승인하거나 반려할 수 없습니다: 다른 편집자나 관리자가 해야 합니다"
        case .invalidTransition: "이 상태로는 바꿀 수 없습니다: draft → review → published, review → draft, published → draft만 됩니다"
        case .forbidden: "이 토큰의 역할로는 할 수 없는 변경입니다"
        case .recordTooLarge, .tooLarge: "서버가 받기에 너무 큽니다: 줄인 뒤 다시 동기화하세요"
        case .invalidField, .missingField, .invalidRecord: "기록의 형식에 맞지 않습니다: 필드를 고치세요"
        case .recordPurged: "서버에서 삭제된 뒤 완전히 지워진 기록이라 바꾸거나 되살릴 수 없습니다"
        case .idTaken: "다른 계정이 만든 기록의 id입니다: 새 기록으로 다시 만드세요"
        case .kindMismatch: "서버에서는 다른 종류의 기록입니다"
        default: nil
        }
    }
}
