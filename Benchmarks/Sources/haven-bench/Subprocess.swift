import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started with `posix_spawn`, so that `wait4` can read its resource usage:
/// Foundation's `Process` reaps its children itself and keeps their peak memory to itself.
struct Subprocess {
    let pid: pid_t
    let stdoutPath: String
    let stderrPath: String

    /// What a finished child printed, how it ended, its wall time and peak resident memory.
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var seconds: Double
        /// `ru_maxrss`, in bytes: at least the peak of the process that spawned it (haven-bench)
        /// on Linux, where exec keeps the peak of the map it replaces; see `Harness.haven`.
        var peakBytes: Int
        /// CPU seconds (user + system), where the launcher reported them (`Harness.haven`).
        var cpuSeconds = 0.0
    }

    /// Starts `executable` with `arguments`, output to files in `directory`.
    static func start(_ executable: String, _ arguments: [String], in directory: URL, environment: [String: String] = [:])
        throws -> Subprocess
    {
        let name = UUID().uuidString
        let out = directory.appendingPathComponent("\(name).out").path
        let err = directory.appendingPathComponent("\(name).err").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { strdup("\($0)=\($1)") } + [nil]
        defer { env.forEach { free($0) } }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, executable, &actions, nil, argv, env)
        guard code == 0 else { throw BenchError("cannot start \(executable): error \(code)") }
        return Subprocess(pid: pid, stdoutPath: out, stderrPath: err)
    }

    /// Runs to completion and measures.
    static func run(_ executable: String, _ arguments: [String], in directory: URL, environment: [String: String] = [:])
        throws -> Result
    {
        let began = Date()
        let process = try start(executable, arguments, in: directory, environment: environment)
        var result = process.wait()
        result.seconds = Date().timeIntervalSince(began)
        guard result.status == 0 else {
            throw BenchError("\(executable) \(arguments.prefix(2).joined(separator: " ")) failed (\(result.status)): \(result.stderr)")
        }
        return result
    }

    /// Waits for the child to end.
    func wait() -> Result {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) == -1 && errno == EINTR {}
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Result(
            status: exit, stdout: (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "", seconds: 0,
            peakBytes: Int(usage.ru_maxrss) * 1024)
    }

    /// The child's stdout so far.
    var output: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }

    /// `VmHWM` from /proc: the peak resident set of a running child, in bytes.
    var peakResidentBytes: Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kilobytes = line.split(whereSeparator: \.isWhitespace).dropFirst().first.flatMap { Int($0) } ?? 0
            return kilobytes * 1024
        }
        return 0
    }

    /// CPU seconds a running child has used (user + system, all threads), from /proc.
    var cpuSeconds: Double {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
        guard let end = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func signal(_ number: Int32) { kill(pid, number) }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
