import Foundation
import Testing

/// A fresh directory for each test case, removed when the case ends.
///
/// For example:
/// ```swift
/// @Suite(.temporaryDirectory) struct ReplicaEditTests {
///     @Test func addsStory() throws {
///         let replica = try makeEmptyReplica()  // in TemporaryDirectory.current
///     }
/// }
/// ```
struct TemporaryDirectory: SuiteTrait, TestTrait, TestScoping {
    /// The current test case's directory.
    @TaskLocal static var current: URL?

    var isRecursive: Bool { true }

    func scopeProvider(for test: Test, testCase: Test.Case?) -> TemporaryDirectory? {
        testCase == nil ? nil : self
    }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("haven-client-tests-\(UUID().uuidString.lowercased())", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await Self.$current.withValue(directory) { try await function() }
    }

    /// A path inside the current test case's directory.
    static func path(_ name: String) -> String {
        guard let current else {
            preconditionFailure("TemporaryDirectory.path used outside a suite marked .temporaryDirectory")
        }
        return current.appendingPathComponent(name).path
    }
}

extension Trait where Self == TemporaryDirectory {
    /// Runs each test case in its own temporary directory.
    static var temporaryDirectory: TemporaryDirectory { TemporaryDirectory() }
}
