import FaultProxy
import Foundation
import HavenCore
import Testing
import TestSupport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The fault proxy does what its profile says, so that the bad-link tests measure the client,
/// not the proxy: latency, bandwidth, resets, blackouts, and the bytes it counts.
@Suite(.serialized)
struct FaultProxyTests {
    @Test func addsLatencyBothWaysAndCountsEveryByte() async throws {
        let (server, token) = try makeServer()
        defer { server.stop() }
        let proxy = try FaultProxy(upstreamPort: server.port, profile: .init(latency: 0.2))
        defer { proxy.stop() }

        let started = Date()
        let answer = try await get(proxy, token: token)
        let seconds = Date().timeIntervalSince(started)

        #expect(answer.status == 200)
        #expect(seconds >= 0.4, "a request and its answer each wait 200 ms: took \(seconds) s")
        let counters = proxy.counters()
        #expect(counters.toClient > answer.body.count && counters.toClient < answer.body.count + 1_000)
        #expect(counters.toServer > 50 && counters.toServer < 1_000)
        #expect(counters.perConnection.count == 1 && counters.perConnection[0].toClient == counters.toClient)
        #expect(counters.inFlight == 0)
    }

    @Test func capsBandwidth() async throws {
        let (server, token) = try makeServer()
        defer { server.stop() }
        let proxy = try FaultProxy(upstreamPort: server.port, profile: .init(bandwidth: 256 << 10))
        defer { proxy.stop() }

        let started = Date()
        let answer = try await get(proxy, token: token)
        let seconds = Date().timeIntervalSince(started)

        // Not faster than the cap allows (a busy machine only makes it slower; the request's
        // timeout stops a hang)
        let expected = Double(answer.body.count) / Double(256 << 10)
        #expect(answer.body.count > 200_000)
        #expect(seconds > expected * 0.8, "\(answer.body.count) bytes took \(seconds) s")
    }

    @Test func resetsADoomedConnectionAfterItsBytes() async throws {
        let (server, token) = try makeServer()
        defer { server.stop() }
        let proxy = try FaultProxy(
            upstreamPort: server.port, profile: .init(resetProbability: 1, resetAfter: 5_000...5_000))
        defer { proxy.stop() }

        await #expect(throws: (any Error).self) { try await get(proxy, token: token) }

        let counters = proxy.counters()
        #expect(counters.resets == 1 && counters.perConnection[0].reset)
        #expect(counters.toServer + counters.toClient == 5_000)
    }

    @Test func resetsAConnectionAtAFourKiBMarkItsDrawHits() async throws {
        let (server, token) = try makeServer()
        defer { server.stop() }
        let proxy = try FaultProxy(upstreamPort: server.port, profile: .init(resetProbabilityPer4KiB: 1))
        defer { proxy.stop() }

        await #expect(throws: (any Error).self) { try await get(proxy, token: token) }

        // The first mark's draw hits: the connection ends at exactly 4 KiB, both ways counted
        let counters = proxy.counters()
        #expect(counters.resets == 1 && counters.resetsByDraw == 1 && counters.perConnection[0].reset)
        #expect(counters.toServer + counters.toClient == FaultProxy.drawSpan)
    }

    @Test func resetsSomeConnectionsOverManyBytesWithAFixedSeed() async throws {
        let (server, token) = try makeServer()
        defer { server.stop() }
        // About 100 marks an answer: at 1%, a request gets through about one time in three
        let proxy = try FaultProxy(
            upstreamPort: server.port, profile: .init(seed: 20, resetProbabilityPer4KiB: 0.01))
        defer { proxy.stop() }

        // Requests, one after another, until 2 MB have been forwarded: about 500 draws
        var failures = 0
        while proxy.counters().toServer + proxy.counters().toClient < 2_000_000 {
            if (try? await get(proxy, token: token).status) != 200 { failures += 1 }
        }

        let counters = proxy.counters()
        #expect(counters.resetsByDraw >= 1 && counters.resets == counters.resetsByDraw)
        #expect(counters.perConnection.filter(\.reset).count == counters.resetsByDraw)
        #expect(failures >= 1 && failures <= counters.resetsByDraw)
    }

    @Test func aPeriodicBlackoutRefusesConnectionsWhileDarkAndCountsEachOnce() async throws {
        let (server, token) = try makeServer()
        defer { server.stop() }
        let (proxy, clock) = try periodicProxy(server)
        defer { proxy.stop() }

        // Lit until 30 s, dark until 38 s, lit again until 60 s
        #expect(try await get(proxy, token: token).status == 200)
        clock.seconds = 31
        await #expect(throws: (any Error).self) { try await get(proxy, token: token) }
        await #expect(throws: (any Error).self) { try await get(proxy, token: token) }
        #expect(proxy.counters().refused >= 2 && proxy.counters().blackouts == 1)
        clock.seconds = 38
        #expect(try await get(proxy, token: token).status == 200)
        clock.seconds = 61
        await #expect(throws: (any Error).self) { try await get(proxy, token: token) }

        let counters = proxy.counters()
        #expect(counters.refused >= 3 && counters.blackouts == 2)
    }

    @Test func aPeriodicBlackoutResetsAnOpenConnectionAsItBegins() async throws {
        let (server, token) = try makeServer()
        defer { server.stop() }
        let (proxy, clock) = try periodicProxy(server)
        defer { proxy.stop() }

        // Given a request whose answer the proxy holds, its connection open
        proxy.hold { direction in direction == .toClient }
        let request = Task { try await get(proxy, token: token) }
        try await Polling.until("the proxy holding", limit: 60) { () async in proxy.isHolding }

        // When the blackout begins, then that connection is reset, and the answer never comes
        clock.seconds = 30
        try await Polling.until("the blackout noticed", limit: 60) { () async in proxy.counters().blackouts == 1 }
        proxy.release(resetting: false)
        await #expect(throws: (any Error).self) { try await request.value }
        #expect(proxy.counters().resets == 1 && proxy.counters().toClient == 0)
    }

    @Test func aPeriodicBlackoutsScheduleAddsUpTheTimeDark() {
        let schedule = FaultProxy.PeriodicBlackout(every: 30, duration: 8)
        #expect(schedule.blackout(at: 29.9) == nil && schedule.blackout(at: 30) == 0)
        #expect(schedule.blackout(at: 38) == nil)
        #expect(schedule.blackout(at: 67.5) == 1)
        let whole = schedule.dark(from: 0, to: 100)
        #expect(whole.seconds == 24 && whole.blackouts == 3)
        let partial = schedule.dark(from: 35, to: 62)
        #expect(partial.seconds == 5 && partial.blackouts == 2)
        #expect(schedule.dark(from: 0, to: 30).blackouts == 0)
    }

    @Test func refusesConnectionsDuringACuttingBlackout() async throws {
        let (server, token) = try makeServer()
        defer { server.stop() }
        // A blackout long enough that the next request surely falls inside it, even on a busy machine
        let proxy = try FaultProxy(
            upstreamPort: server.port, profile: .init(blackouts: [.init(afterBytes: 1, duration: 5, cuts: true)]))
        defer { proxy.stop() }

        // The first answer's bytes start the blackout, which cuts that connection.
        _ = try? await get(proxy, token: token)
        await #expect(throws: (any Error).self) { try await get(proxy, token: token) }
        #expect(proxy.counters().refused >= 1)
        // Then, once it is over, requests go through again (tried until one does; the limit
        // only stops a proxy that never recovers)
        try await Polling.until("a request through the proxy after its 5 s blackout", limit: 60) {
            (try? await get(proxy, token: token).status) == 200
        }

        let counters = proxy.counters()
        #expect(counters.blackouts == 1 && counters.refused >= 1)
    }

    @Test func stallsEverythingDuringAStallingBlackout() async throws {
        let (server, token) = try makeServer()
        defer { server.stop() }
        let proxy = try FaultProxy(
            upstreamPort: server.port, profile: .init(blackouts: [.init(afterBytes: 1, duration: 1, cuts: false)]))
        defer { proxy.stop() }

        // The first answer starts the blackout; it and the next one arrive, held for the second
        // (the requests' timeout stops a hang)
        let started = Date()
        #expect(try await get(proxy, token: token).status == 200)
        #expect(try await get(proxy, token: token).status == 200)
        let seconds = Date().timeIntervalSince(started)

        #expect(seconds >= 1, "took \(seconds) s: nothing was held")
        #expect(proxy.counters().blackouts == 1 && proxy.counters().resets == 0)
    }

    @Test func holdsTheLinkWhenItsConditionSaysSoUntilReleased() async throws {
        let (server, token) = try makeServer()
        defer { server.stop() }
        let proxy = try FaultProxy(upstreamPort: server.port)
        defer { proxy.stop() }

        // Given a hold armed for the first answer
        proxy.hold { direction in direction == .toClient }
        let first = Task { try await get(proxy, token: token) }

        // When the answer reaches the proxy, then the request has gone through and not one
        // byte of the answer has (polled; the limit only stops a hang)
        try await Polling.until("the proxy holding", limit: 60) { () async in proxy.isHolding }
        #expect(proxy.counters().toServer > 0 && proxy.counters().toClient == 0)
        // and released as it was, the answer arrives whole
        proxy.release(resetting: false)
        #expect(try await first.value.status == 200)
        #expect(proxy.counters().holds == 1 && proxy.counters().resets == 0)

        // Given a hold armed for the next request
        let sent = proxy.counters().toServer
        proxy.hold { direction in direction == .toServer }
        let second = Task { try await get(proxy, token: token) }

        // When the request reaches the proxy, then none of it reaches the server
        try await Polling.until("the proxy holding", limit: 60) { () async in proxy.isHolding }
        #expect(proxy.counters().toServer == sent)
        // and released with a reset, it fails and never reaches the server
        proxy.release(resetting: true)
        await #expect(throws: (any Error).self) { try await second.value }
        #expect(proxy.counters().toServer == sent)
        #expect(proxy.counters().holds == 2)

        // And a disarmed hold never starts
        proxy.hold { _ in true }
        proxy.disarm()
        #expect(try await get(proxy, token: token).status == 200)
        #expect(proxy.counters().holds == 2)
    }

    /// A server holding 150 stories (about 400 KB as a page without compression).
    private func makeServer() throws -> (ServerProcess, String) {
        let server = ServerProcess(in: try TemporaryDirectory())
        try SamplePack.importPack(SamplePack.make(stories: 150, resources: 0, seed: 9), into: server)
        try server.start()
        return (server, try server.token(role: "reader", name: "reader"))
    }

    /// A proxy to `server` dark for 8 s every 30 s, from 30 s on a clock the test moves by hand.
    private func periodicProxy(_ server: ServerProcess) throws -> (FaultProxy, HandClock) {
        let clock = HandClock()
        let proxy = try FaultProxy(
            upstreamPort: server.port, profile: .init(periodicBlackout: .init(every: 30, duration: 8)),
            clock: { clock.seconds })
        return (proxy, clock)
    }

    /// One uncompressed pull through the proxy, on a connection of its own.
    private func get(_ proxy: FaultProxy, token: String) async throws -> (status: Int, body: Data) {
        var request = URLRequest(url: URL(string: proxy.url + "/v1/changes?limit=500")!, timeoutInterval: 60)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        let (body, response) = try await session.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, body)
    }
}

/// A clock a test moves by hand, for the proxy's periodic blackouts.
private final class HandClock: @unchecked Sendable {
    private let lock = NSLock()
    private var now = 0.0

    var seconds: Double {
        get { lock.withLock { now } }
        set { lock.withLock { now = newValue } }
    }
}
