import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A loopback TCP proxy of our own that turns a good link into a bad one, for end-to-end tests.
///
/// It listens on `127.0.0.1:0`, forwards each connection to one upstream port and applies a
/// ``Profile`` in both directions:
///
/// 1. Every chunk is delivered `latency` seconds after it arrived: a delay line, so throughput
///    is kept (up to 1 MiB in flight per direction and connection).
/// 2. A token bucket per direction, shared by every connection, caps the bandwidth.
/// 3. A seeded draw per connection decides whether it is reset, and after how many bytes
///    (both directions counted); a reset closes both sides with RST. Apart from that, a
///    seeded draw for every 4 KiB the proxy forwards (all connections, both directions) may
///    reset the connection whose bytes crossed the 4 KiB mark: resets that come at a rate per
///    byte, as on a flaky radio link, however the client splits its requests.
/// 4. A blackout starts once the bytes sent to clients pass its mark and lasts its duration.
///    A cutting blackout resets every connection and refuses new ones; a stalling one holds
///    every byte and every new connection until it ends. A periodic blackout is dark at set
///    times from the proxy's start instead (a tunnel on a bus route): it resets every
///    connection when it begins and refuses new ones until it ends.
/// 5. A hold, armed with ``hold(when:)``, stops the link at a moment the test picks from what
///    it observes (rows in a database, a replica's cursor), not from the clock: the condition is
///    asked before each chunk is forwarded, and once it holds nothing moves until ``release(resetting:)``.
///
/// Each connection runs four threads, a reader and a writer per direction, joined by a queue.
/// Every wait is bounded (50 ms), so ``stop()`` ends them all promptly. The proxy counts the
/// bytes it forwards each way, in total and per connection.
///
/// For example:
/// ```swift
/// let proxy = try FaultProxy(upstreamPort: 8080, profile: .init(latency: 0.6))
/// defer { proxy.stop() }
/// // … point the client at proxy.url, then read proxy.counters().toClient
/// ```
public final class FaultProxy: @unchecked Sendable {
    /// How the link misbehaves; the defaults are a perfect link.
    public struct Profile: Sendable {
        /// One-way delay added in each direction, in seconds.
        public var latency: Double
        /// Bytes per second in each direction, shared by all connections; nil for no cap.
        public var bandwidth: Int?
        /// The chance that a connection is reset.
        public var resetProbability: Double
        /// How many bytes (both directions) a doomed connection forwards before its reset.
        public var resetAfter: ClosedRange<Int>
        /// Blackouts, each starting once the bytes sent to clients reach its mark.
        public var blackouts: [Blackout]
        /// Seeds the reset draws, so a failing run can be repeated.
        public var seed: UInt64
        /// Byte strings replaced in every chunk read, both ways: an attacker on the link.
        public var rewrites: [Rewrite]
        /// The chance, drawn once for every 4 KiB forwarded (all connections, both directions
        /// counted together), that the connection forwarding the 4 KiB mark's byte is reset
        /// there. Independent of ``resetProbability``; both may be set.
        public var resetProbabilityPer4KiB: Double
        /// Dark at set times from the proxy's start, whatever the traffic; nil for never.
        public var periodicBlackout: PeriodicBlackout?

        public init(
            latency: Double = 0, bandwidth: Int? = nil, resetProbability: Double = 0,
            resetAfter: ClosedRange<Int> = 1...65_536, blackouts: [Blackout] = [], seed: UInt64 = 1,
            rewrites: [Rewrite] = [], resetProbabilityPer4KiB: Double = 0, periodicBlackout: PeriodicBlackout? = nil
        ) {
            self.latency = latency
            self.bandwidth = bandwidth
            self.resetProbability = resetProbability
            self.resetAfter = resetAfter
            self.blackouts = blackouts
            self.seed = seed
            self.rewrites = rewrites
            self.resetProbabilityPer4KiB = resetProbabilityPer4KiB
            self.periodicBlackout = periodicBlackout
        }
    }

    /// Bytes forwarded between two draws of ``Profile/resetProbabilityPer4KiB``.
    public static let drawSpan = 4_096

    /// A cutting blackout that comes back on a schedule: dark for `duration` seconds every
    /// `period` seconds, the first starting `start` seconds after the proxy did. While dark,
    /// new connections are refused; every open connection is reset as it begins.
    public struct PeriodicBlackout: Sendable {
        /// Seconds from the start of one blackout to the start of the next.
        public var period: Double
        /// Seconds each lasts.
        public var duration: Double
        /// Seconds from the proxy's start to the first blackout's.
        public var start: Double

        /// Dark for `duration` every `period`, the first `start` seconds in (`period` if nil).
        public init(every period: Double, duration: Double, start: Double? = nil) {
            precondition(period > duration && duration > 0, "a periodic blackout is lit between two blackouts")
            self.period = period
            self.duration = duration
            self.start = start ?? period
        }

        /// Which blackout (0 for the first) is under way `elapsed` seconds after the proxy's
        /// start; nil while lit.
        public func blackout(at elapsed: Double) -> Int? {
            guard elapsed >= start else { return nil }
            let index = ((elapsed - start) / period).rounded(.down)
            return elapsed - start - index * period < duration ? Int(index) : nil
        }

        /// Seconds dark between `from` and `to` (both seconds after the proxy's start), and
        /// how many blackouts overlapped that span.
        public func dark(from: Double, to: Double) -> (seconds: Double, blackouts: Int) {
            guard to > start else { return (0, 0) }
            var seconds = 0.0
            var count = 0
            var index = max(0, ((from - start) / period).rounded(.down))
            while start + index * period < to {
                let begins = start + index * period
                let overlap = min(to, begins + duration) - max(from, begins)
                if overlap > 0 {
                    seconds += overlap
                    count += 1
                }
                index += 1
            }
            return (seconds, count)
        }
    }

    /// One byte string replaced by another of the same length, so no `Content-Length` changes.
    /// Only what arrives within one chunk read is replaced: enough for short answers on loopback.
    public struct Rewrite: Sendable {
        public var from: [UInt8]
        public var to: [UInt8]

        public init(_ from: String, _ to: String) {
            precondition(from.utf8.count == to.utf8.count && !from.isEmpty, "a rewrite keeps the length")
            self.from = Array(from.utf8)
            self.to = Array(to.utf8)
        }

        /// `bytes` with every occurrence replaced; how many there were.
        func apply(to bytes: inout [UInt8]) -> Int {
            var count = 0
            var index = 0
            while index + from.count <= bytes.count {
                if bytes[index..<index + from.count].elementsEqual(from) {
                    bytes.replaceSubrange(index..<index + from.count, with: to)
                    index += from.count
                    count += 1
                } else {
                    index += 1
                }
            }
            return count
        }
    }

    /// A period without a link.
    public struct Blackout: Sendable {
        /// The blackout starts when this many bytes in all have been sent to clients.
        public var afterBytes: Int
        /// Seconds it lasts.
        public var duration: Double
        /// True: connections are reset and new ones refused. False: everything stalls.
        public var cuts: Bool

        public init(afterBytes: Int, duration: Double, cuts: Bool) {
            self.afterBytes = afterBytes
            self.duration = duration
            self.cuts = cuts
        }
    }

    /// The way a chunk is about to go.
    public enum Direction: Sendable {
        /// From the client to the server: a request.
        case toServer
        /// From the server to the client: an answer.
        case toClient
    }

    /// Bytes forwarded by one connection.
    public struct Traffic: Sendable {
        public var toServer = 0
        public var toClient = 0
        /// Whether the profile reset it.
        public var reset = false
    }

    /// What the proxy has forwarded so far.
    public struct Counters: Sendable {
        public var toServer = 0
        public var toClient = 0
        /// Connections accepted, including refused ones.
        public var connections = 0
        /// Connections reset by the profile's draw or cut by a blackout.
        public var resets = 0
        /// Connections refused during a cutting blackout.
        public var refused = 0
        /// Blackouts started (periodic ones counted as the proxy notices them: a connection
        /// asked for, or forwarding, while dark).
        public var blackouts = 0
        /// Connections reset by a draw of ``Profile/resetProbabilityPer4KiB`` (also in `resets`).
        public var resetsByDraw = 0
        /// Holds started by a ``FaultProxy/hold(when:)`` condition.
        public var holds = 0
        /// Byte strings replaced by the profile's rewrites.
        public var rewrites = 0
        /// Bytes read from one side and not yet written to the other.
        public var inFlight = 0
        /// When bytes last went each way, in ``FaultProxy/now()`` seconds (0 if never).
        public var lastToServer = 0.0
        public var lastToClient = 0.0
        /// Per connection, in the order they were accepted.
        public var perConnection: [Traffic] = []
    }

    /// The port the proxy listens on, on 127.0.0.1.
    public let port: Int
    /// When the proxy started, on the clock it was given (``now()`` by default): the origin of
    /// a periodic blackout's schedule.
    public let started: Double
    /// `http://127.0.0.1:port`, for a client that speaks HTTP.
    public var url: String { "http://127.0.0.1:\(port)" }

    private let upstreamPort: Int
    private let profile: Profile
    private let listener: Int32
    private let upload: TokenBucket?
    private let download: TokenBucket?
    /// The clock of periodic blackouts; every other timing uses ``now()``.
    private let clock: @Sendable () -> Double

    // Everything below is guarded by `lock`.
    private let lock = NSLock()
    private var totals = Counters()
    private var random: SplitMix64
    /// Draws per 4 KiB: a stream of their own, so the per-connection draws stay as they were.
    private var byteRandom: SplitMix64
    /// Bytes forwarded in all (both ways) at which the next per-4-KiB draw is made.
    private var nextDrawAt = FaultProxy.drawSpan
    /// The periodic blackout last seen dark, so that each one cuts and is counted once.
    private var periodicSeen: Int?
    private var connections: [Int: Connection] = [:]
    private var pendingBlackouts: [Blackout]
    private var blackoutEnds = 0.0
    private var blackoutCuts = false
    private var holdCondition: (@Sendable (Direction) -> Bool)?
    private var holding = false
    private var stopped = false
    private var acceptorRunning = true

    /// Starts listening on a free loopback port and forwarding to `upstreamPort` on 127.0.0.1.
    ///
    /// - Parameter clock: the seconds a periodic blackout is scheduled by (a test may drive
    ///   it by hand); latency, bandwidth and byte-triggered blackouts keep ``now()``.
    /// - Throws: ``FaultProxyError`` if the socket cannot be set up.
    public init(
        upstreamPort: Int, profile: Profile = .init(), clock: @escaping @Sendable () -> Double = { FaultProxy.now() }
    ) throws {
        self.upstreamPort = upstreamPort
        self.profile = profile
        self.clock = clock
        self.started = clock()
        self.random = SplitMix64(seed: profile.seed)
        self.byteRandom = SplitMix64(seed: ~profile.seed)
        self.pendingBlackouts = profile.blackouts.sorted { $0.afterBytes < $1.afterBytes }
        self.upload = profile.bandwidth.map(TokenBucket.init)
        self.download = profile.bandwidth.map(TokenBucket.init)
        let listener = socket(AF_INET, Socket.stream, 0)
        guard listener >= 0 else { throw FaultProxyError("socket() failed: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Socket.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 128) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        guard listening else {
            close(listener)
            throw FaultProxyError("cannot listen on 127.0.0.1: errno \(errno)")
        }
        self.listener = listener
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// Serializes the evaluations of the hold condition, which may be slow (a database read).
    private let holdCheck = NSLock()

    /// A snapshot of the counters.
    public func counters() -> Counters {
        lock.withLock { totals }
    }

    /// Arms a hold: before forwarding each chunk, in either direction, the proxy asks
    /// `condition`; the first time it answers true, that chunk stays where it is and the whole
    /// link stops (every byte both ways, every new connection) until ``release(resetting:)``.
    /// The condition is then disarmed; arming again replaces an armed one.
    ///
    /// Asked before a request's first bytes reach the server, a condition sees everything that
    /// earlier requests committed: a client that waits for each answer cannot have more in flight.
    ///
    /// For example, stop a client the moment the server's log passes 120 rows:
    /// ```swift
    /// proxy.hold { _ in (try? logRows()) ?? 0 >= 120 }
    /// while !proxy.isHolding { … }  // then kill the client, look, and release
    /// ```
    public func hold(when condition: @escaping @Sendable (Direction) -> Bool) {
        lock.withLock { holdCondition = condition }
    }

    /// Disarms a hold that has not started yet.
    public func disarm() {
        lock.withLock { holdCondition = nil }
    }

    /// Whether a hold has started and not been released.
    public var isHolding: Bool {
        lock.withLock { holding }
    }

    /// Ends a hold.
    ///
    /// - Parameter resetting: true resets every open connection and drops what it held, as a
    ///   link that went down with its client does; false lets the held bytes go on.
    public func release(resetting: Bool) {
        let open: [Connection] = lock.withLock {
            holding = false
            guard resetting else { return [] }
            totals.resets += connections.count
            return Array(connections.values)
        }
        for connection in open { abort(connection, reset: true) }
    }

    /// Stops listening, closes every open connection and waits (at most 5 s) for its threads.
    /// Call it when done: the proxy's threads keep it alive until then.
    public func stop() {
        let open: [Connection] = lock.withLock {
            stopped = true
            return Array(connections.values)
        }
        for connection in open { abort(connection, reset: false) }
        for _ in 0..<100 {
            if lock.withLock({ connections.isEmpty && !acceptorRunning }) { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Monotonic seconds, the clock of ``Counters/lastToServer`` and ``Counters/lastToClient``.
    public static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    // MARK: Accepting

    private func acceptLoop() {
        defer {
            close(listener)
            lock.withLock { acceptorRunning = false }
        }
        while !lock.withLock({ stopped }) {
            guard Socket.wait(listener, for: POLLIN) else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            Socket.configure(client)
            let periodicDark = periodicBlackoutIsDark()
            let (connection, refuse): (Connection, Bool) = lock.withLock {
                totals.connections += 1
                totals.perConnection.append(Traffic())
                let id = totals.perConnection.count - 1
                let doomed = Double(random.next() % 1_000_000) / 1_000_000 < profile.resetProbability
                let span = UInt64(profile.resetAfter.count)
                let resetAfter = profile.resetAfter.lowerBound + Int(random.next() % span)
                let refuse = periodicDark || (blackoutCuts && Self.now() < blackoutEnds)
                if refuse { totals.refused += 1 }
                return (Connection(id: id, client: client, resetAfter: doomed ? resetAfter : nil), refuse)
            }
            if refuse {
                Socket.closeWithReset(client)
                continue
            }
            lock.withLock { connections[connection.id] = connection }
            Thread.detachNewThread { [self] in open(connection) }
        }
    }

    /// Waits out a stalling blackout, connects upstream and starts the four threads.
    private func open(_ connection: Connection) {
        while stalled() && !isAborted(connection) { Thread.sleep(forTimeInterval: 0.01) }
        let server = socket(AF_INET, Socket.stream, 0)
        var address = Socket.loopback(port: upstreamPort)
        let connected =
            server >= 0
            && withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            } == 0
        guard connected, !isAborted(connection) else {
            if server >= 0 { close(server) }
            abort(connection, reset: true)
            finish(connection)
            return
        }
        Socket.configure(server)
        connection.server = server  // Before the threads start; read only by them and finish().
        let (up, down) = (connection.up, connection.down)
        let threads: [@Sendable () -> Void] = [
            { [self] in read(from: connection.client, into: up, connection) },
            { [self] in write(up, to: server, toClient: false, connection) },
            { [self] in read(from: server, into: down, connection) },
            { [self] in write(down, to: connection.client, toClient: true, connection) },
        ]
        lock.withLock { connection.threads = threads.count }
        for work in threads {
            Thread.detachNewThread {
                work()
                self.threadEnded(connection)
            }
        }
    }

    // MARK: Forwarding

    /// Reads chunks from `source` and queues them with the time they are due.
    private func read(from source: Int32, into pipe: Pipe, _ connection: Connection) {
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while !isAborted(connection) {
            let full = pipe.condition.withLock { pipe.queued >= Pipe.capacity }
            if full {
                Thread.sleep(forTimeInterval: 0.005)
                continue
            }
            guard Socket.wait(source, for: POLLIN) else { continue }
            let count = recv(source, &buffer, buffer.count, 0)
            if count == 0 { break }  // Orderly close: the writer passes it on once drained.
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                abort(connection, reset: false)
                break
            }
            var chunk = Array(buffer[0..<count])
            let rewritten = profile.rewrites.reduce(0) { $0 + $1.apply(to: &chunk) }
            lock.withLock {
                totals.inFlight += count
                totals.rewrites += rewritten
            }
            pipe.condition.withLock {
                pipe.chunks.append((due: Self.now() + profile.latency, bytes: chunk))
                pipe.queued += count
                pipe.condition.signal()
            }
        }
        pipe.condition.withLock {
            pipe.sourceClosed = true
            pipe.condition.signal()
        }
    }

    /// Writes queued chunks to `destination` when due, within the bandwidth and the reset budget.
    private func write(_ pipe: Pipe, to destination: Int32, toClient: Bool, _ connection: Connection) {
        let bucket = toClient ? download : upload
        while !isAborted(connection) {
            if periodicBlackoutIsDark() {  // Reset as it began, or accepted as it did.
                abort(connection, reset: true)
                return
            }
            pipe.condition.lock()
            if pipe.chunks.isEmpty && !pipe.sourceClosed {
                _ = pipe.condition.wait(until: Date().addingTimeInterval(0.05))
            }
            guard !pipe.chunks.isEmpty else {
                let drained = pipe.sourceClosed
                pipe.condition.unlock()
                if drained {
                    shutdown(destination, Int32(SHUT_WR))
                    return
                }
                continue
            }
            let chunk = pipe.chunks.removeFirst()
            pipe.queued -= chunk.bytes.count
            pipe.condition.unlock()
            var unsent = chunk.bytes.count
            defer { lock.withLock { totals.inFlight -= unsent } }  // Dropped by a reset or a dead peer.

            while Self.now() < chunk.due && !isAborted(connection) {
                Thread.sleep(forTimeInterval: min(0.05, chunk.due - Self.now()))
            }
            var offset = 0
            var asked = false  // The hold condition is asked once per chunk, before its first byte.
            while offset < chunk.bytes.count && !isAborted(connection) {
                if !asked {
                    asked = true
                    if startsHold(toClient ? .toClient : .toServer) { continue }
                }
                if stalled() {
                    Thread.sleep(forTimeInterval: 0.01)
                    continue
                }
                var slice = min(chunk.bytes.count - offset, bucket?.burst ?? Int.max)
                bucket?.take(slice) { self.isAborted(connection) }
                let (budget, toDraw) = lock.withLock {
                    (
                        connection.resetAfter.map { $0 - connection.forwarded } ?? Int.max,
                        profile.resetProbabilityPer4KiB > 0 ? nextDrawAt - totals.toServer - totals.toClient : Int.max
                    )
                }
                slice = min(slice, budget, toDraw)  // A draw falls exactly on its 4 KiB mark.
                var drawnReset = false
                if slice > 0 {
                    guard chunk.bytes[offset..<offset + slice].withUnsafeBytes({ Socket.send(destination, $0) }) else {
                        abort(connection, reset: false)
                        return
                    }
                    drawnReset = record(slice, toClient: toClient, connection)
                    offset += slice
                    unsent -= slice
                }
                if drawnReset {
                    abort(connection, reset: true)
                    return
                }
                if slice == budget {
                    lock.withLock {
                        totals.perConnection[connection.id].reset = true
                        totals.resets += 1
                    }
                    abort(connection, reset: true)
                    return
                }
            }
        }
    }

    /// Counts forwarded bytes, makes the per-4-KiB draws whose marks they pass, and starts a
    /// blackout whose mark they pass. True if a draw reset `connection` (counted already).
    private func record(_ count: Int, toClient: Bool, _ connection: Connection) -> Bool {
        var drawnReset = false
        let cut: [Connection] = lock.withLock {
            connection.forwarded += count
            totals.inFlight -= count
            if toClient {
                totals.toClient += count
                totals.perConnection[connection.id].toClient += count
                totals.lastToClient = Self.now()
            } else {
                totals.toServer += count
                totals.perConnection[connection.id].toServer += count
                totals.lastToServer = Self.now()
            }
            while profile.resetProbabilityPer4KiB > 0 && totals.toServer + totals.toClient >= nextDrawAt {
                nextDrawAt += Self.drawSpan
                let hit = Double(byteRandom.next() % 1_000_000) / 1_000_000 < profile.resetProbabilityPer4KiB
                if hit && !drawnReset {
                    drawnReset = true
                    totals.perConnection[connection.id].reset = true
                    totals.resets += 1
                    totals.resetsByDraw += 1
                }
            }
            guard let next = pendingBlackouts.first, totals.toClient >= next.afterBytes else { return [] }
            pendingBlackouts.removeFirst()
            totals.blackouts += 1
            blackoutEnds = Self.now() + next.duration
            blackoutCuts = next.cuts
            guard next.cuts else { return [] }
            totals.resets += connections.count
            return Array(connections.values)
        }
        for connection in cut { abort(connection, reset: true) }
        return drawnReset
    }

    /// Whether a periodic blackout is under way; the first time one is seen, it is counted and
    /// every open connection is reset.
    private func periodicBlackoutIsDark() -> Bool {
        guard let schedule = profile.periodicBlackout else { return false }
        guard let index = schedule.blackout(at: clock() - started) else { return false }
        let cut: [Connection] = lock.withLock {
            guard periodicSeen != index else { return [] }
            periodicSeen = index
            totals.blackouts += 1
            totals.resets += connections.count
            return Array(connections.values)
        }
        for connection in cut { abort(connection, reset: true) }
        return true
    }

    // MARK: Connection state

    private func stalled() -> Bool {
        lock.withLock { holding || (!blackoutCuts && Self.now() < blackoutEnds) }
    }

    /// Asks the armed hold condition about a chunk about to go `direction`; true if it started a hold.
    private func startsHold(_ direction: Direction) -> Bool {
        holdCheck.withLock {
            guard let condition = lock.withLock({ holding ? nil : holdCondition }), condition(direction) else {
                return false
            }
            lock.withLock {
                holdCondition = nil
                holding = true
                totals.holds += 1
            }
            return true
        }
    }

    private func isAborted(_ connection: Connection) -> Bool {
        lock.withLock { connection.aborted || stopped }
    }

    private func abort(_ connection: Connection, reset: Bool) {
        lock.withLock {
            connection.aborted = true
            connection.reset = connection.reset || reset
        }
    }

    private func threadEnded(_ connection: Connection) {
        let last = lock.withLock {
            connection.threads -= 1
            return connection.threads == 0
        }
        if last { finish(connection) }
    }

    /// Closes both sockets once every thread of the connection has ended, with RST if it was reset.
    private func finish(_ connection: Connection) {
        let reset = lock.withLock {
            connections[connection.id] = nil
            // What an aborted connection still held was never forwarded.
            totals.inFlight -= connection.up.queued + connection.down.queued
            return connection.reset
        }
        for socket in [connection.client, connection.server] where socket >= 0 {
            if reset { Socket.closeWithReset(socket) } else { close(socket) }
        }
    }
}

/// A proxy that could not be set up.
public struct FaultProxyError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// One proxied connection; its mutable fields are guarded by the proxy's lock.
private final class Connection: @unchecked Sendable {
    let id: Int
    let client: Int32
    var server: Int32 = -1
    /// Bytes after which the profile resets it; nil if it is spared.
    let resetAfter: Int?
    let up = Pipe()
    let down = Pipe()
    var forwarded = 0
    var aborted = false
    var reset = false
    var threads = 0

    init(id: Int, client: Int32, resetAfter: Int?) {
        self.id = id
        self.client = client
        self.resetAfter = resetAfter
    }
}

/// The chunks read from one side and not yet written to the other, guarded by `condition`.
private final class Pipe: @unchecked Sendable {
    static let capacity = 1 << 20
    let condition = NSCondition()
    var chunks: [(due: Double, bytes: [UInt8])] = []
    var queued = 0
    var sourceClosed = false
}

/// A token bucket: `rate` bytes per second, bursts of at most 20 ms worth (1 KiB at least).
private final class TokenBucket: @unchecked Sendable {
    let rate: Double
    let burst: Int
    private let lock = NSLock()
    private var tokens: Double
    private var refilled = FaultProxy.now()

    init(rate: Int) {
        self.rate = Double(rate)
        self.burst = max(1024, rate / 50)
        self.tokens = Double(burst)
    }

    /// Blocks until `count` tokens (at most `burst`) are taken, or `cancelled` says stop.
    func take(_ count: Int, cancelled: () -> Bool) {
        while !cancelled() {
            let wait: Double = lock.withLock {
                let now = FaultProxy.now()
                tokens = min(Double(burst), tokens + (now - refilled) * rate)
                refilled = now
                if tokens >= Double(count) {
                    tokens -= Double(count)
                    return 0
                }
                return (Double(count) - tokens) / rate
            }
            if wait == 0 { return }
            Thread.sleep(forTimeInterval: min(wait, 0.05))
        }
    }
}

/// The POSIX calls the proxy makes, with the platform differences in one place.
private enum Socket {
    #if canImport(Glibc)
        static let stream = Int32(SOCK_STREAM.rawValue)
        static let sendFlags = Int32(MSG_NOSIGNAL)
    #else
        static let stream = SOCK_STREAM
        static let sendFlags: Int32 = 0
    #endif

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr = in_addr(s_addr: UInt32(0x7F00_0001).bigEndian)
        return address
    }

    /// No Nagle delay (latency is the profile's business), and no SIGPIPE on macOS.
    static func configure(_ socket: Int32) {
        var yes: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
        #if canImport(Darwin)
            setsockopt(socket, SOL_SOCKET, SO_NOSIGPIPE, &yes, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }

    /// Waits up to 50 ms for `events` on `socket`.
    static func wait(_ socket: Int32, for events: Int32) -> Bool {
        var descriptor = pollfd(fd: socket, events: Int16(events), revents: 0)
        return poll(&descriptor, 1, 50) > 0
    }

    /// Writes all of `bytes`; false if the peer is gone or has read nothing for 60 s.
    static func send(_ socket: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        var idlePolls = 0
        while offset < bytes.count && idlePolls < 1_200 {
            guard wait(socket, for: POLLOUT) else {
                idlePolls += 1
                continue
            }
            let sent = sendBytes(socket, bytes.baseAddress! + offset, bytes.count - offset)
            if sent < 0 && errno != EINTR && errno != EAGAIN { return false }
            offset += max(0, sent)
        }
        return offset == bytes.count
    }

    private static func sendBytes(_ socket: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
            Glibc.send(socket, pointer, count, sendFlags | Int32(MSG_DONTWAIT))
        #else
            Darwin.send(socket, pointer, count, sendFlags | MSG_DONTWAIT)
        #endif
    }

    /// Closes with RST rather than FIN, as a reset link does.
    static func closeWithReset(_ socket: Int32) {
        var hard = linger(l_onoff: 1, l_linger: 0)
        setsockopt(socket, SOL_SOCKET, SO_LINGER, &hard, socklen_t(MemoryLayout<linger>.size))
        close(socket)
    }
}

/// A small seeded generator (SplitMix64).
private struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
