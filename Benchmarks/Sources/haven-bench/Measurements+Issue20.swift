import Foundation
import HavenClient
import HavenCore

/// Issue 20's loopback rows on the data set Kinto was measured on: publish (`haven import`,
/// then `haven push`) and a fresh replica's first sync, with the raw-insert floor of that sync.
struct Issue20Result {
    var stories = 0
    var resources = 0
    /// Steps 1, 2 and 7 of a size, on this data set.
    var loopback = SizeResult()

    /// `haven import` and `haven push`, one after the other.
    var publishSeconds: Double { loopback.importSeconds + loopback.publishSeconds }
}

extension Measurements {
    /// `stories` short stories (10,000 in the issue) and 500 resources, seed as given.
    func issue20(stories: Int, log: (String) -> Void) async throws -> Issue20Result {
        var generator = DataGenerator(seed: seed, storyBodyBytes: DataGenerator.shortStories)
        let records = generator.records(stories: stories, resources: 500)
        var (loopback, server, _) = try await publishAndFirstSync(records, in: "issue20", log: log)
        server.stop()
        try measureSearch(try Replica.open(at: harness.path("issue20/reader.sqlite")), into: &loopback)
        log("issue 20: first search \(loopback.firstSearchSeconds) s, index built in \(loopback.indexBuildSeconds) s")
        return Issue20Result(stories: stories, resources: 500, loopback: loopback)
    }
}
