import HavenClient
import HavenCore

/// Every line the `haven` commands print passes through here: within this module it stands in
/// for the standard library's `print`, so no command can print record text unescaped.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    Swift.print(TerminalText.escaped(items.map { "\($0)" }.joined(separator: separator)), terminator: terminator)
}
