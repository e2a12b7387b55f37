import Foundation
import HavenClient

// Syncs the replica that `haven init` made, printing each change as it arrives.
// Usage: follow-changes REPLICA [PASSPHRASE_FILE]  (an encrypted replica without the file: from stdin)
let arguments = CommandLine.arguments
guard arguments.count > 1 else {
    print("usage: follow-changes REPLICA [PASSPHRASE_FILE]")
    exit(2)
}
do {
    let replica = try Replica.open(at: arguments[1]) {  // the passphrase is read only if it is encrypted
        Passphrase(reading: try Data(contentsOf: URL(fileURLWithPath: arguments.count > 2 ? arguments[2] : "/dev/stdin")))
    }
    var api = try replica.settings().serverAPI()
    api.pageReceived = { page in
        for change in page.changes {
            let title = change.fields["title"]?.value.stringValue ?? change.fields["name"]?.value.stringValue
            print("\(change.kind.rawValue) \(change.id): \(change.isDeleted ? "deleted" : title ?? "changed")")
        }
    }
    for try await update in SyncEngine(replica: replica, api: api).updates() {
        switch update {
        case .progress(let progress):
            let line = "\rsyncing: \(progress.summary.pushed) sent, \(progress.summary.pulledRecords) received"
            FileHandle.standardError.write(Data(line.utf8))
        case .finished(let summary):
            FileHandle.standardError.write(Data("\n".utf8))
            print("synced: \(summary.pushed) sent, \(summary.pulledRecords) received")
        }
    }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
