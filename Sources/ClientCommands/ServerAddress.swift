import ArgumentParser
import Foundation
import HavenClient
import HavenCore

/// The steps `haven init` and `haven login` share to take a server: its address read, its key
/// pinned when it is https://, and the server checked with the token (``ServerCheck``).
enum ServerAddress {
    /// `text` as a server address, with `pin` well formed and only for https://.
    static func parse(_ text: String, pin: String?) throws -> URL {
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw ValidationError(
                Words(
                    "--server must be an http:// or https:// address, such as http://127.0.0.1:8080",
                    korean: "--server는 http:// 또는 https:// 주소여야 합니다 (예: http://127.0.0.1:8080)").text)
        }
        if let pin {
            guard PinnedKey(parsing: pin) != nil else {
                throw ValidationError(
                    Words(
                        "--pin must be written sha256/BASE64, as 'haven-server serve' prints it",
                        korean: "--pin은 'haven-server serve'가 출력하는 대로 sha256/BASE64 형식으로 쓰세요").text)
            }
            guard url.scheme == "https" else {
                throw ValidationError(Words("--pin is for an https:// server", korean: "--pin은 https:// 서버에만 씁니다").text)
            }
        }
        return url
    }

    /// The key the https:// `server` shows, checked against `expected` when given, and shown.
    static func pinKey(of server: URL, expected: String?) async throws -> PinnedKey {
        let key = try await PinnedTransport.fetchKey(of: server)
        if let expected = expected.flatMap(PinnedKey.init(parsing:)), expected != key {
            throw ClientError(
                Words(
                    "the server showed the key \(key), not the --pin \(expected): someone on the link may be posing "
                        + "as the server, or the pin is mistyped; nothing was saved. Check the pin with the server's admin",
                    korean: "서버가 보인 키(\(key))가 --pin으로 준 키(\(expected))와 다릅니다: 연결 중간에서 누군가 서버인 척하거나 "
                        + "pin을 잘못 입력했을 수 있습니다. 아무것도 저장하지 않았습니다. 서버 관리자와 pin을 확인하세요"))
        }
        print(
            expected == nil
                ? Words(
                    "server key \(key): pinned; check it with the server's admin, later connections refuse any other key",
                    korean: "서버 키 \(key): 고정했습니다. 서버 관리자와 확인하세요. 앞으로 다른 키를 보이는 연결은 거부합니다")
                : Words("server key \(key): matches --pin; pinned", korean: "서버 키 \(key): --pin과 같습니다. 고정했습니다"))
        return key
    }

    /// The token's account on `server`, reached over `link`; prints what was checked.
    static func check(_ server: URL, token: String, link: Replica.Link) async throws -> Account {
        let transport: any HTTPTransport = link.pin.map { PinnedTransport(pin: $0) } ?? HTTPClientTransport()
        let account = try await ServerCheck.account(at: server, token: token, transport: transport)
        print(
            Words(
                "checked \(server.absoluteString): a Haven server; the token is \(describe(account).english)",
                korean: "\(server.absoluteString) 확인: Haven 서버입니다. 토큰은 \(describe(account).korean)입니다"))
        return account
    }

    /// "amina's, a field token".
    static func describe(_ account: Account) -> Words {
        let name = TerminalText.escaped(account.name)
        let role = account.role.rawValue
        let article = role.first.map { "aeiou".contains($0) } == true ? "an" : "a"
        return Words("\(name)'s, \(article) \(role) token", korean: "\(name)의 \(role) 토큰")
    }
}
