import MarginCore

/// What is wrong with a JSON value, and where: `path` is built only when something is
/// wrong, by each level adding its member name or index on the way out (`within`).
package struct JSONShapeError: Error, Sendable {
    package var path: String
    package var problem: String

    package init(_ problem: String, at path: String = "") {
        self.problem = problem
        self.path = path
    }

    /// The error as the rest of Marginalia reports it: "changes[2].fields.note: expected a string".
    package var marginError: MarginError {
        MarginError(.invalidInput, path.isEmpty ? problem : "\(path): \(problem)")
    }
}

/// Runs `body`, adding `component` (a member name, or `[index]`) to the path of the error
/// it throws. The component is only built when there is an error.
@inline(__always)
package func within<T>(_ component: @autoclosure () -> String, _ body: () throws(JSONShapeError) -> T) throws(JSONShapeError) -> T {
    do {
        return try body()
    } catch {
        var error = error
        let head = component()
        error.path = error.path.isEmpty ? head : error.path.hasPrefix("[") ? head + error.path : head + "." + error.path
        throw error
    }
}
