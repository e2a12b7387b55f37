import Foundation

/// Milliseconds since 1970 by the system clock.
func currentMilliseconds() -> UInt64 {
    UInt64(max(0, Date().timeIntervalSince1970 * 1000))
}
