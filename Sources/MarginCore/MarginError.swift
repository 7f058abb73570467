/// A failure in Marginalia's domain logic or storage, shaped like swift-nio's
/// `FileSystemError`: a stable `code`, a human `message` naming what was wrong and
/// what to do, and the underlying `cause` when there is one.
///
/// Messages never contain note text, tokens or other payloads.
public struct MarginError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure it is; stable, for callers that branch on it.
    public enum Code: String, Sendable {
        case invalidInput = "invalid_input"
        case notFound = "not_found"
        case ambiguous
        case unsupportedFile = "unsupported_file"
        case storeUnavailable = "store_unavailable"
        case storeTooNew = "store_too_new"
        case corruptStore = "corrupt_store"
        case io
    }

    public var code: Code
    public var message: String
    public var cause: (any Error & Sendable)?

    /// An error of kind `code`; `message` says what was wrong and what to do.
    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { message }
}
