import Foundation

/// How much the randomized suites do, and how to replay one of their runs.
///
/// `MARGIN_FUZZ_ROUNDS=N` makes every randomized suite run N rounds instead of its CI
/// size; `MARGIN_FUZZ_SEED=S` runs seed S only (a failure prints its seed). For example:
/// ```sh
/// MARGIN_FUZZ_ROUNDS=5000 swift test --filter ConvergenceTests
/// MARGIN_FUZZ_SEED=1234567 swift test --filter ConvergenceTests
/// ```
public enum Fuzz {
    /// `MARGIN_FUZZ_ROUNDS`, else `ciRounds`.
    public static func rounds(ci ciRounds: Int) -> Int {
        ProcessInfo.processInfo.environment["MARGIN_FUZZ_ROUNDS"].flatMap(Int.init).map { max($0, 1) } ?? ciRounds
    }

    /// The seeds of `count` runs: `MARGIN_FUZZ_SEED` alone when it is set, else fresh ones.
    public static func seeds(count: Int) -> [UInt64] {
        if let replay = ProcessInfo.processInfo.environment["MARGIN_FUZZ_SEED"].flatMap(UInt64.init) { return [replay] }
        var system = SystemRandomNumberGenerator()
        return (0..<max(count, 1)).map { _ in system.next() % 1_000_000_000 }
    }

    /// How to run `seed` again, for a failure message.
    public static func replay(_ seed: UInt64, suite: String) -> String {
        "seed \(seed); replay with MARGIN_FUZZ_SEED=\(seed) swift test --filter \(suite)"
    }
}
