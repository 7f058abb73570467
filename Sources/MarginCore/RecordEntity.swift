/// The kinds of records the protocol carries.
public enum RecordEntity: String, Sendable, Hashable, Codable, CaseIterable {
    case article, annotation
    /// A value that lost a conflict, or a delete that lost to an edit, kept so that it can
    /// be restored (`ConflictRecord`). Made by the server; devices dismiss (delete) them,
    /// and send one again (create) that a restored server lost.
    case conflict
}
