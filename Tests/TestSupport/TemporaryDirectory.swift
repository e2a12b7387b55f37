import Foundation
import Testing

/// A fresh directory, removed with everything in it when the last holder lets go of it.
///
/// A test holds one of its own, or a suite gives one to each of its test cases with the
/// `.temporaryDirectory` trait, reachable as ``current``.
///
/// For example:
/// ```swift
/// let directory = try TemporaryDirectory()
/// let server = ServerProcess(in: directory)
///
/// @Suite(.temporaryDirectory) struct ReplicaEditTests {
///     @Test func addsStory() throws {
///         let replica = try Replica.create(at: TemporaryDirectory.path("replica.sqlite"), …)
///     }
/// }
/// ```
public final class TemporaryDirectory: Sendable {
    /// The directory.
    public let url: URL

    /// Creates an empty directory under the system's temporary directory.
    public init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("haven-tests-\(UUID().uuidString.lowercased())", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// A path inside the directory.
    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// The current test case's directory, in a suite or test marked `.temporaryDirectory`.
    @TaskLocal public static var current: TemporaryDirectory?

    /// A path inside the current test case's directory.
    public static func path(_ name: String) -> String {
        guard let current else {
            preconditionFailure("TemporaryDirectory.path used outside a suite or test marked .temporaryDirectory")
        }
        return current.path(name)
    }
}

/// Gives each test case a ``TemporaryDirectory`` of its own, as ``TemporaryDirectory/current``.
public struct TemporaryDirectoryTrait: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func scopeProvider(for test: Test, testCase: Test.Case?) -> TemporaryDirectoryTrait? {
        testCase == nil ? nil : self
    }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        try await TemporaryDirectory.$current.withValue(try TemporaryDirectory()) { try await function() }
    }
}

extension Trait where Self == TemporaryDirectoryTrait {
    /// Runs each test case in its own temporary directory.
    public static var temporaryDirectory: TemporaryDirectoryTrait { TemporaryDirectoryTrait() }
}
