import Foundation
import Testing

@testable import HavenClient

/// Plain HTTP only to this machine unless `--insecure-http` (Link/PlainHTTPRule.swift).
struct PlainHTTPRuleTests {
    @Test(arguments: [
        ("http://127.0.0.1:8080", true), ("http://127.8.9.10", true), ("http://localhost:80", true),
        ("http://[::1]:8080", true), ("https://203.0.113.5", true),
        ("http://192.0.2.1:9", false), ("http://10.0.0.2", false), ("http://127.0.0.1.example.org", false),
        ("http://localhost.example.org", false), ("http://128.0.0.1", false), ("http://haven.example.org", false),
    ])
    func plainHTTPIsAllowedOnlyToThisMachine(address: String, allowed: Bool) throws {
        // Given a server address, When the rule checks it without --insecure-http
        let url = try #require(URL(string: address))
        let outcome = Result { try PlainHTTPRule.check(url, insecureHTTPAllowed: false) }

        // Then only loopback over http (and anything over https) passes, and --insecure-http lets all pass
        #expect(((try? outcome.get()) != nil) == allowed, "\(address)")
        #expect(throws: Never.self) { try PlainHTTPRule.check(url, insecureHTTPAllowed: true) }
    }

    @Test(arguments: ["sha256/ptYHWu9stq4hmL6b/SthOsEjq/sSIz3lelHHSogB+NU="])
    func pinRoundTrips(text: String) throws {
        #expect(PinnedKey(parsing: text)?.description == text)
    }

    @Test(arguments: ["ptYHWu9stq4hmL6b/SthOsEjq/sSIz3lelHHSogB+NU=", "sha256/AAAA", "sha1/ptYHWu9stq4hmL6b", "sha256/!!"])
    func malformedPinIsRefused(text: String) {
        #expect(PinnedKey(parsing: text) == nil)
    }
}
