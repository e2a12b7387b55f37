import FaultProxy
import Foundation
import HavenCore
import Testing

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

        let expected = Double(answer.body.count) / Double(256 << 10)
        #expect(answer.body.count > 200_000)
        #expect(
            seconds > expected * 0.8 && seconds < expected * 2 + 0.5, "\(answer.body.count) bytes took \(seconds) s")
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

    @Test func refusesConnectionsDuringACuttingBlackout() async throws {
        let (server, token) = try makeServer()
        defer { server.stop() }
        let proxy = try FaultProxy(
            upstreamPort: server.port, profile: .init(blackouts: [.init(afterBytes: 1, duration: 1, cuts: true)]))
        defer { proxy.stop() }

        // The first answer's bytes start the blackout, which cuts that connection.
        _ = try? await get(proxy, token: token)
        await #expect(throws: (any Error).self) { try await get(proxy, token: token) }
        try await Task.sleep(for: .milliseconds(1_200))
        #expect(try await get(proxy, token: token).status == 200)

        let counters = proxy.counters()
        #expect(counters.blackouts == 1 && counters.refused >= 1)
    }

    @Test func stallsEverythingDuringAStallingBlackout() async throws {
        let (server, token) = try makeServer()
        defer { server.stop() }
        let proxy = try FaultProxy(
            upstreamPort: server.port, profile: .init(blackouts: [.init(afterBytes: 1, duration: 1, cuts: false)]))
        defer { proxy.stop() }

        // The first answer starts the blackout; it and the next one arrive, a second late.
        let started = Date()
        #expect(try await get(proxy, token: token).status == 200)
        #expect(try await get(proxy, token: token).status == 200)
        let seconds = Date().timeIntervalSince(started)

        #expect(seconds >= 1 && seconds < 5, "took \(seconds) s")
        #expect(proxy.counters().resets == 0)
    }

    /// A server holding 150 stories (about 400 KB as a page without compression).
    private func makeServer() throws -> (ServerProcess, String) {
        let server = ServerProcess(in: try TemporaryDirectory())
        try SamplePack.importPack(SamplePack.make(stories: 150, resources: 0, seed: 9), into: server)
        try server.start()
        return (server, try server.token(role: "reader", name: "reader"))
    }

    /// One uncompressed pull through the proxy, on a connection of its own.
    private func get(_ proxy: FaultProxy, token: String) async throws -> (status: Int, body: Data) {
        var request = URLRequest(url: URL(string: proxy.url + "/v1/changes?limit=500")!, timeoutInterval: 10)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        let (body, response) = try await session.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, body)
    }
}
