import Foundation
import HavenClient
import HavenCore
import HavenTrust

/// How `haven init` pins the publisher's key (Replica+Verification.swift, rule 1): the server's
/// current signing key, shown as its fingerprint, or checked against `--publisher-key`.
enum PublisherPin {
    /// The server's current signing key, checked against `expected` (a fingerprint, or the raw
    /// key in base64) when given; nil when the server signs nothing and nothing was expected.
    ///
    /// - Throws: ``ClientError`` when the server's key is not the expected one, and no
    ///   endorsement chain leads from the expected key to it.
    static func fetch(from server: URL, token: String, link: Replica.Link, expected: String?) async throws -> PublisherKey? {
        let transport: any HTTPTransport = link.pin.map { PinnedTransport(pin: $0) } ?? HTTPClientTransport()
        let chain = try await ServerCheck.publisherKeys(at: server, token: token, transport: transport)
        guard let last = chain.last, let current = PublisherKey(last) else {
            if let expected {
                throw ClientError(
                    Words(
                        "the server has no publisher key, but --publisher-key \(expected) was given: nothing was saved. "
                            + "Ask the server's admin",
                        korean: "서버에 게시자 키가 없는데 --publisher-key \(expected)를 주었습니다: 아무것도 저장하지 "
                            + "않았습니다. 서버 관리자에게 물어보세요"),
                    code: .unverifiedContent)
            }
            print(
                Words(
                    "the server signs nothing: published content will not be verified",
                    korean: "이 서버는 아무것도 서명하지 않습니다: 게시된 내용을 확인할 수 없습니다"))
            return nil
        }
        guard let expected else {
            print(
                Words(
                    "publisher key \(current.id): pinned; check it with the server's admin",
                    korean: "게시자 키 \(current.id): 고정했습니다. 서버 관리자와 확인하세요"))
            return current
        }
        let given = chain.compactMap { PublisherKey($0) }.first {
            $0.id == expected || Data($0.rawKey).base64EncodedString() == expected
        }
        guard let given, PublisherKey.follow(from: given, along: chain) == current else {
            throw ClientError(
                Words(
                    "the server's publisher key is \(current.id), not the --publisher-key \(expected): "
                        + "this may not be the publisher's server, or the key is mistyped; nothing was saved",
                    korean: "서버의 게시자 키는 \(current.id)이고, --publisher-key \(expected)가 아닙니다: "
                        + "게시자의 서버가 아니거나 키를 잘못 입력했을 수 있습니다. 아무것도 저장하지 않았습니다"),
                code: .unverifiedContent)
        }
        print(
            Words(
                "publisher key \(current.id): matches --publisher-key; pinned",
                korean: "게시자 키 \(current.id): --publisher-key와 같습니다. 고정했습니다"))
        return current
    }

    /// `text` as a raw key in base64: what `--publisher-key` must be with `--offline`, since a
    /// fingerprint alone cannot check a signature.
    static func parseRawKey(_ text: String) throws -> PublisherKey {
        guard let raw = Data(base64Encoded: text), let key = PublisherKey(rawKey: raw) else {
            throw ClientError(
                Words(
                    "--publisher-key with --offline must be the key itself (base64, as GET /v1/publisher lists it), "
                        + "not its fingerprint; or leave --offline out",
                    korean: "--offline과 함께 쓰는 --publisher-key는 지문이 아닌 키 자체(base64, GET /v1/publisher가 "
                        + "보여 주는 대로)여야 합니다. 아니면 --offline을 빼세요"),
                code: .invalidArguments)
        }
        return key
    }
}
