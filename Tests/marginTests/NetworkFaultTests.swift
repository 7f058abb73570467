import MarginTestSupport
import Testing

/// Randomized edits and syncs, as in `ConvergenceTests`, with every request going through a
/// `FaultProxy` that refuses, delays, cuts and garbles a third of the connections (a
/// retried push applies once; a failed sync changes nothing). Every sync must succeed or fail with a network or server error
/// in one line; once the faults stop, every store must equal the server's library with
/// nothing lost and nothing applied twice.
@Suite struct NetworkFaultTests {
    static let roundsPerSeed = 40

    @Test(arguments: ServerProcess.Backend.allCases)
    func syncsThroughAFaultyNetworkFailClearlyAndConvergeOnceItHeals(_ backend: ServerProcess.Backend) throws {
        let server = try ServerProcess.start(backend)
        let rounds = Fuzz.rounds(ci: 240)
        var faults: [FaultProxy.Fault: Int] = [:]
        var failedSyncs: [String: Int] = [:]
        for seed in Fuzz.seeds(count: rounds / Self.roundsPerSeed) {
            let replay = Fuzz.replay(seed, suite: "NetworkFaultTests")
            let proxy = try FaultProxy(upstreamPort: server.port, seed: seed, faultPercent: 40)
            defer { proxy.stop() }
            do {
                var run = try ConvergenceRun(server: server, seed: seed, through: proxy)
                try run.play(rounds: min(rounds, Self.roundsPerSeed))
                proxy.faultPercent = 0
                let failures = try run.settle()
                #expect(failures.isEmpty, "\(replay), \(backend):\n\(failures.joined(separator: "\n"))\n\(run.trace.joined(separator: "\n"))")
                if !failures.isEmpty { return }
                failedSyncs.merge(run.failedSyncs, uniquingKeysWith: +)
            } catch {
                Issue.record("\(replay), \(backend): \(error)")
                return
            }
            faults.merge(proxy.counts, uniquingKeysWith: +)
        }
        // The run did meet faults, and syncs did fail on them.
        for fault in FaultProxy.Fault.allCases where rounds >= 240 {
            #expect(faults[fault, default: 0] > 0, "no connection got \(fault): \(faults)")
        }
        #expect(rounds < 240 || !failedSyncs.isEmpty)
        print("NetworkFaultTests \(backend): faults \(faults.sorted { $0.key.rawValue < $1.key.rawValue }), failed syncs \(failedSyncs)")
    }
}
