/// Which records are published to everyone (DESIGN §4, §8): the one rule the server's visibility,
/// the signed published set and the client's verification share.
///
/// Rule 1. A record is public when its status is `published` and it is not a restricted story.
/// A record without a status counts as a draft: nothing is published by omission.
///
/// Rule 2. The published set is every public record that is not deleted: what a reader token
/// may hold. Drafts, records in review, restricted stories and field staff's own unpublished
/// work are outside it, whoever else may read them.
public enum Publication {
    /// Whether every role may read a record of `kind` with these `status` and `sensitivity`
    /// values (rule 1).
    public static func isPublic(kind: RecordKind, status: JSONValue?, sensitivity: JSONValue?) -> Bool {
        let restricted = kind == .story && sensitivity == .string("restricted")
        return !restricted && status == .string("published")
    }

    /// Whether `state` belongs to the published set (rule 2).
    public static func isInPublishedSet(_ state: RecordState) -> Bool {
        !state.isDeleted
            && isPublic(kind: state.kind, status: state.fields["status"]?.value, sensitivity: state.fields["sensitivity"]?.value)
    }

    /// Whether `record` belongs to the published set (rule 2), as the server holds it.
    public static func isInPublishedSet(_ record: TrackedRecord) -> Bool {
        !record.isDeleted
            && isPublic(
                kind: record.kind, status: record.fields["status"]?.register.value,
                sensitivity: record.fields["sensitivity"]?.register.value)
    }
}
