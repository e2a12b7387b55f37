/// The moment `span` milliseconds after `now`, held to the largest a database column stores
/// (`Int64.max`): a clock read at the end of its range gives an expiry far off, not an overflow.
func expiry(after span: UInt64, from now: UInt64) -> UInt64 {
    let limit = UInt64(Int64.max)
    let (sum, overflow) = now.addingReportingOverflow(span)
    return overflow ? limit : min(sum, limit)
}
