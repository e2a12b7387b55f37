import ArgumentParser

/// How long `haven-server serve` keeps a connection whose client is silent or slow, each also
/// read from the environment variable named in its help.
struct TimeoutOptions: ParsableArguments {
    private static let defaults = ServerConfiguration()

    @Option(
        help: """
            Close a connection after this long with no request under way: between requests, or a head or body that \
            stopped coming (HAVEN_IDLE_TIMEOUT). Never while a request is answered: a long-poll waits its whole wait.
            """)
    var idleTimeout: Lifetime = .environment("HAVEN_IDLE_TIMEOUT", default: defaults.idleTimeout)
    @Option(help: "Close a connection whose request head is not whole this long after its first byte (HAVEN_HEADER_TIMEOUT).")
    var headerTimeout: Lifetime = .environment("HAVEN_HEADER_TIMEOUT", default: defaults.headerTimeout)
    @Option(help: "Close a connection whose request body is not whole this long after its head (HAVEN_BODY_TIMEOUT).")
    var bodyTimeout: Lifetime = .environment("HAVEN_BODY_TIMEOUT", default: defaults.bodyTimeout)

    func validate() throws {
        for name in ["HAVEN_IDLE_TIMEOUT", "HAVEN_HEADER_TIMEOUT", "HAVEN_BODY_TIMEOUT"] {
            try Lifetime.validateEnvironment(name)
        }
        try idleTimeout.validate(option: "--idle-timeout")
        try headerTimeout.validate(option: "--header-timeout")
        try bodyTimeout.validate(option: "--body-timeout")
    }

    /// Copies the options into `configuration`.
    func apply(to configuration: inout ServerConfiguration) {
        configuration.idleTimeout = .milliseconds(idleTimeout.milliseconds)
        configuration.headerTimeout = .milliseconds(headerTimeout.milliseconds)
        configuration.bodyTimeout = .milliseconds(bodyTimeout.milliseconds)
    }
}

extension Lifetime {
    /// The environment variable `name`, or else `fallback` (whole seconds).
    static func environment(_ name: String, default fallback: Duration) -> Lifetime {
        environment(name, default: "\(fallback.components.seconds)s")
    }
}
