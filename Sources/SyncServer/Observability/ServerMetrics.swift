import CoreMetrics
import HavenCore
import Prometheus

/// The server's Prometheus metrics, made once per application from its own registry.
///
/// Nothing here touches the process-wide `MetricsSystem`: every application (and every test)
/// passes its own `ServerMetrics` to ``buildApplication(store:configuration:logger:clock:metrics:onListening:)``,
/// so many applications can live in one process without sharing counts.
///
/// Labels never carry request data: routes are route patterns (`/v1/changes`, never a raw path
/// or query), methods come from a fixed list, statuses are numbers.
///
/// For example:
///
/// ```swift
/// let metrics = ServerMetrics()
/// let app = try buildApplication(store: store, configuration: .init(), logger: logger, metrics: metrics)
/// // GET /metrics (admin token) answers metrics.exposition()
/// ```
public struct ServerMetrics: Sendable {
    /// Where every metric of this application is kept.
    public let registry: PrometheusCollectorRegistry
    /// The swift-metrics factory writing into ``registry``.
    public let factory: PrometheusMetricsFactory
    /// Long-polls waiting and the last compaction, for the console's health page.
    public let activity = ServerActivity()

    /// `haven_push_duration_seconds`: successful `POST /v1/changes`, from request to response.
    let pushDuration: CoreMetrics.Timer
    /// `haven_pull_duration_seconds{long_poll="false"}`: successful `GET /v1/changes` without `wait`.
    let pullDuration: CoreMetrics.Timer
    /// `haven_pull_duration_seconds{long_poll="true"}`: successful pulls that asked to `wait`,
    /// kept apart because their duration includes the wait.
    let longPollDuration: CoreMetrics.Timer
    /// `haven_changes_total{result="applied"}`, and `duplicate` and `rejected` below: pushed changes by outcome.
    let changesApplied: CoreMetrics.Counter
    let changesDuplicate: CoreMetrics.Counter
    let changesRejected: CoreMetrics.Counter
    /// `haven_change_log_rows`: rows in the change log, set at every scrape and raised by pushes between scrapes.
    let changeLogRows: CoreMetrics.Meter

    /// Metric names, as scraped.
    enum Name {
        static let requests = "haven_http_requests_total"
        static let pushDuration = "haven_push_duration_seconds"
        static let pullDuration = "haven_pull_duration_seconds"
        static let changes = "haven_changes_total"
        static let changeLogRows = "haven_change_log_rows"
    }

    /// Methods counted by name; anything else is counted as `other`, so a client cannot mint labels.
    static let countedMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    /// Makes a fresh registry and the server's metrics in it.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        // Pushes and pages take milliseconds; long-polls up to a minute.
        let buckets: [Duration] = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
            .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        ]
        factory.durationHistogramBuckets = [Name.pushDuration: buckets, Name.pullDuration: buckets]
        self.factory = factory
        pushDuration = CoreMetrics.Timer(label: Name.pushDuration, factory: factory)
        pullDuration = CoreMetrics.Timer(
            label: Name.pullDuration, dimensions: [("long_poll", "false")], factory: factory)
        longPollDuration = CoreMetrics.Timer(
            label: Name.pullDuration, dimensions: [("long_poll", "true")], factory: factory)
        changesApplied = CoreMetrics.Counter(label: Name.changes, dimensions: [("result", "applied")], factory: factory)
        changesDuplicate = CoreMetrics.Counter(
            label: Name.changes, dimensions: [("result", "duplicate")], factory: factory)
        changesRejected = CoreMetrics.Counter(
            label: Name.changes, dimensions: [("result", "rejected")], factory: factory)
        changeLogRows = CoreMetrics.Meter(label: Name.changeLogRows, factory: factory)
    }

    /// Counts one answered request.
    ///
    /// - Parameters:
    ///   - route: the matched route pattern, or `unmatched`.
    func countRequest(route: String, method: String, status: Int) {
        let method = Self.countedMethods.contains(method) ? method : "other"
        CoreMetrics.Counter(
            label: Name.requests, dimensions: [("route", route), ("method", method), ("status", String(status))],
            factory: factory
        ).increment()
    }

    /// Counts the outcome of every change in a push and raises the log size by the applied ones.
    func countPush(_ results: [PushResult]) {
        var applied = 0
        for result in results {
            switch result.status {
            case .applied:
                changesApplied.increment()
                applied += 1
            case .duplicate: changesDuplicate.increment()
            case .rejected: changesRejected.increment()
            }
        }
        if applied > 0 { changeLogRows.increment(by: Double(applied)) }
    }

    /// The Prometheus text exposition of every metric, as `GET /metrics` answers it.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
