import Foundation
import HavenCore

/// haven-bench [--sizes 1000,10000,100000] [--no-slow-link] [--issue20-stories N] [--bin DIR] [--output FILE]
///             [--seed N]
/// haven-bench --pack N FILE [--seed N]
/// haven-bench --issue20-pack N FILE [--seed N]
/// haven-bench --signed-set [--sizes …]
///
/// Drives the release `haven-server` and `haven` binaries over loopback, measures the seven
/// figures of issue 6 with their floors at each size, then issue 20's rows: publish and first
/// sync of its data set (N short stories, 10,000 by default, 0 to skip, and 500
/// resources) and the slow link clean, with resets and with blackouts; and writes them, with
/// issue 20's comparison with Kinto, between the markers of FILE (BENCHMARKS.md), leaving the
/// prose around them as it is. An empty `--sizes ""` measures issue 20's rows alone (its search
/// rows come from the size 10,000). With `--pack`, it only writes the
/// content pack of N records the run would use (for profiling one step by hand); with
/// `--issue20-pack`, issue 20's data set of N short stories and 500 resources. With
/// `--signed-set`, it only measures the signed published set in-process and prints its table
/// (BENCHMARKS.md, "Signed content").
var sizes = [1_000, 10_000, 100_000]
var slowLink = true
var output: String?
var seed: UInt64 = 6
var binaries = FileManager.default.currentDirectoryPath + "/.build-release/release"
var pack: (size: Int, file: String)?
var issue20Pack = false
var signedSet = false
var issue20Stories = 10_000
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--sizes": sizes = arguments.popFirst()!.split(separator: ",").compactMap { Int($0) }
    case "--no-slow-link": slowLink = false
    case "--output": output = arguments.popFirst()
    case "--seed": seed = UInt64(arguments.popFirst()!)!
    case "--bin": binaries = arguments.popFirst()!
    case "--pack": pack = (Int(arguments.popFirst()!)!, arguments.popFirst()!)
    case "--issue20-pack":
        pack = (Int(arguments.popFirst()!)!, arguments.popFirst()!)
        issue20Pack = true
    case "--signed-set": signedSet = true
    case "--issue20-stories": issue20Stories = Int(arguments.popFirst()!)!
    default:
        FileHandle.standardError.write(Data("unknown argument \(argument)\n".utf8))
        exit(64)
    }
}

if let pack {
    var generator = DataGenerator(seed: seed, storyBodyBytes: issue20Pack ? DataGenerator.shortStories : DataGenerator.longStories)
    let records = issue20Pack ? generator.records(stories: pack.size, resources: 500) : generator.records(pack.size)
    try JSONEncoder().encode(ContentPack(records: records)).write(to: URL(fileURLWithPath: pack.file))
    exit(0)
}

if signedSet {
    let rows = try SignedSetMeasurement().run(sizes: sizes, seed: seed) {
        FileHandle.standardError.write(Data("[bench] \($0)\n".utf8))
    }
    print(SignedSetMeasurement.markdown(rows))
    exit(0)
}

let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("haven-bench-\(getpid())")
try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
// HAVEN_BENCH_KEEP=1 keeps the scratch directory, to look into a failed run.
defer { if ProcessInfo.processInfo.environment["HAVEN_BENCH_KEEP"] == nil { try? FileManager.default.removeItem(at: scratch) } }
let harness = Harness(binaries: URL(fileURLWithPath: binaries), directory: scratch)
let measurements = Measurements(harness: harness, seed: seed)
func log(_ line: String) { FileHandle.standardError.write(Data("[bench] \(line)\n".utf8)) }

let started = Date()
var results: [SizeResult] = []
for size in sizes {
    results.append(try await measurements.run(size: size, log: log))
}
let issue20 = issue20Stories > 0 ? try await measurements.issue20(stories: issue20Stories, log: log) : nil
let slow = slowLink ? try await measurements.slowLink(log: log) : nil
let report = Report(
    sizes: results, issue20: issue20, slow: slow, seconds: Date().timeIntervalSince(started), seed: seed
).markdown
print(report)
if let output {
    try Report.write(report, into: output)
    log("figures written to \(output)")
}
