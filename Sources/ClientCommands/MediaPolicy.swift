import ArgumentParser
import HavenClient
import HavenCore

/// Which media files `haven sync --media` downloads: none, all, or those up to a size.
enum MediaPolicy: ExpressibleByArgument, Equatable {
    case none
    case all
    case upTo(Int64)

    /// The largest file to download, nil for none; `Int64.max` for all.
    var limit: Int64?? {
        switch self {
        case .none: nil
        case .all: .some(nil)
        case .upTo(let bytes): .some(bytes)
        }
    }

    /// `none`, `all`, or a size: `500000`, `800KB`, `2MB`, `1GB`.
    init?(argument: String) {
        let text = argument.uppercased()
        switch text {
        case "NONE": self = .none
        case "ALL": self = .all
        default:
            let units: [(String, Int64)] = [("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1_000), ("B", 1)]
            let (number, unit) = units.first { text.hasSuffix($0.0) }.map { (String(text.dropLast($0.0.count)), $0.1) } ?? (text, 1)
            guard let value = Double(number), value >= 0, value.isFinite else { return nil }
            self = .upTo(Int64(min(value * Double(unit), Double(MediaReference.maxSize))))
        }
    }
}
