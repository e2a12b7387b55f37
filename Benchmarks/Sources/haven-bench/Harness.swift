import CompressNIO
import FaultProxy
import Foundation
import GRDB
import HavenClient
import HavenCore
import NIOCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The release binaries, a scratch directory, and the steps every measurement is made of.
struct Harness {
    let binaries: URL
    let directory: URL

    var server: String { binaries.appendingPathComponent("haven-server").path }
    var client: String { binaries.appendingPathComponent("haven").path }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// `haven-server token create`: the secret.
    func createToken(database: String, role: String = "editor", name: String) throws -> String {
        let result = try Subprocess.run(
            server, ["token", "create", "--database", database, "--create", "--role", role, "--name", name],
            in: directory)
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `peak-rss`, built beside haven-bench (Benchmarks/Sources/peak-rss).
    var peakLauncher: String {
        Bundle.main.executableURL!.deletingLastPathComponent().appendingPathComponent("peak-rss").path
    }

    /// Runs `haven ARGS --json` and decodes its summary. The run goes through `peak-rss`, so its
    /// `peakBytes` is haven's own peak, not haven-bench's (which `wait4` would report).
    func haven(_ arguments: [String]) throws -> (summary: [String: Any], result: Subprocess.Result) {
        let peakFile = path("peak-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: peakFile) }
        var result = try Subprocess.run(peakLauncher, [peakFile, client] + arguments, in: directory)
        let lines = (try? String(contentsOfFile: peakFile, encoding: .utf8))?.split(separator: "\n") ?? []
        guard let peak = lines.first.flatMap({ Int($0) }) else {
            throw BenchError("peak-rss wrote no peak for haven \(arguments.prefix(1))")
        }
        guard let cpu = lines.dropFirst().first.flatMap({ Double($0) }) else {
            throw BenchError("peak-rss wrote no CPU time for haven \(arguments.prefix(1)): rebuild haven-bench, which builds it")
        }
        result.peakBytes = peak
        result.cpuSeconds = cpu
        guard arguments.contains("--json") else { return ([:], result) }
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return (object ?? [:], result)
    }

    /// Points a replica at another address (the counting proxy, say), as `haven init` would have.
    func setServer(ofReplica replica: String, to url: String) throws {
        let queue = try DatabaseQueue(path: replica)
        try queue.write { db in
            try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'server'", arguments: [url])
        }
        try queue.close()
    }

    /// The `state` column of every record in a replica, in rowid order.
    func replicaRows(_ replica: String) throws -> [(id: String, kind: String, state: String, deleted: Bool)] {
        let queue = try DatabaseQueue(path: replica)
        defer { try? queue.close() }
        return try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT id, kind, state, deleted FROM records ORDER BY rowid").map {
                ($0["id"], $0["kind"], $0["state"], $0["deleted"])
            }
        }
    }
}

/// A running `haven-server serve` on a free loopback port.
struct RunningServer {
    let process: Subprocess
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }

    /// The publisher imports packs of published records in one step, an editor's own sign-off
    /// (`--review single`); review itself is not what the bench measures.
    static func start(_ harness: Harness, database: String) throws -> RunningServer {
        let process = try Subprocess.start(
            harness.server, ["serve", "--database", database, "--create", "--port", "0", "--review", "single"],
            in: harness.directory)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let output = process.output
            if let range = output.range(of: "listening on http://127.0.0.1:") {
                let digits = output[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits) { return RunningServer(process: process, port: port) }
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        process.signal(SIGKILL)
        throw BenchError("haven-server did not start: \(process.wait().stderr)")
    }

    /// Peak resident memory so far, in bytes.
    var peakBytes: Int { process.peakResidentBytes }

    /// CPU seconds used so far (user + system, all threads).
    var cpuSeconds: Double { process.cpuSeconds }

    /// SIGTERM and wait; returns the peak resident memory over the server's life.
    @discardableResult
    func stop() -> Int {
        let peak = peakBytes
        process.signal(SIGTERM)
        _ = process.wait()
        return peak
    }
}

/// A transport that counts body bytes as they crossed the wire (gzipped) and once inflated.
final class CountingTransport: HTTPTransport, @unchecked Sendable {
    private let inner = HTTPClientTransport()
    private let lock = NSLock()
    private(set) var inflated = 0
    private(set) var compressed = 0
    private(set) var requests = 0

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let response = try await inner.send(request)
        lock.withLock {
            inflated += response.body.count
            compressed += response.header("Content-Length").flatMap { Int($0) } ?? response.body.count
            requests += 1
        }
        return response
    }

    func stream(_ request: HTTPRequest, receive: (HTTPBodyPiece) async throws -> Void) async throws -> HTTPResponse {
        lock.withLock { requests += 1 }
        return try await inner.stream(request) { piece in
            lock.withLock {
                inflated += piece.bytes.count
                compressed += piece.wireBytes
            }
            try await receive(piece)
        }
    }
}

/// gzip at the server's level (CompressNIO's default, as CompressionMiddleware uses).
func gzipSize(_ data: Data) throws -> Int {
    var buffer = ByteBuffer(bytes: data)
    return try buffer.compress(with: .gzip()).readableBytes
}

/// Percentiles of a list of seconds, in milliseconds.
struct Percentiles {
    let p50: Double
    let p90: Double
    let p99: Double
    let max: Double
    let count: Int

    init(_ seconds: [Double]) {
        let sorted = seconds.sorted()
        func at(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.down)))] * 1000 }
        p50 = at(0.5)
        p90 = at(0.9)
        p99 = at(0.99)
        max = (sorted.last ?? 0) * 1000
        count = sorted.count
    }

    var text: String {
        String(format: "%.2f / %.2f / %.2f / %.2f ms (n=%d)", p50, p90, p99, max, count)
    }
}

/// Wall time of `body`, in seconds.
func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let value = try body()
    return (value, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}
