import MarginCore
import Testing

/// The merge rules both the server's planner and a device's rebase use.
@Suite struct MergeRulesTests {
    static let early = MergeRules.Write(hlc: 1_000, device: "a")
    static let late = MergeRules.Write(hlc: 2_000, device: "a")

    @Test func tagsKeepWhatEachSideAddedAndRemoved() {
        #expect(MergeRules.tags(["a", "b", "server"], old: ["a", "b"], new: ["b", "c"]) == ["b", "c", "server"])
        // A create merges as a change from nothing: a union.
        #expect(MergeRules.tags(["x"], old: [], new: ["y"]) == ["x", "y"])
    }

    @Test func aFieldNobodyElseChangedFastForwards() {
        let change = ChangeEntry.FieldChange(old: .text("base"), new: .text("mine"))
        #expect(MergeRules.resolve(.note, current: .text("base"), currentWrite: Self.late, change: change, write: Self.early) == .fastForward)
        #expect(MergeRules.resolve(.note, current: .text("mine"), currentWrite: Self.late, change: change, write: Self.early) == .unchanged)
    }

    @Test func notesMergeThreeWayWhenTheEditsDoNotOverlap() {
        let change = ChangeEntry.FieldChange(old: .text("a\nb\nc"), new: .text("A\nb\nc"))
        #expect(
            MergeRules.resolve(.note, current: .text("a\nb\nC"), currentWrite: Self.late, change: change, write: Self.early)
                == .merged(.text("A\nb\nC")))
    }

    @Test func otherwiseTheLaterWriteWinsThenTheLargerDevice() {
        let change = ChangeEntry.FieldChange(old: .text("yellow"), new: .text("red"))
        #expect(MergeRules.resolve(.color, current: .text("blue"), currentWrite: Self.early, change: change, write: Self.late)
            == .conflict(changeWins: true))
        #expect(MergeRules.resolve(.color, current: .text("blue"), currentWrite: Self.late, change: change, write: Self.early)
            == .conflict(changeWins: false))
        let tie = MergeRules.Write(hlc: 2_000, device: "b")
        #expect(MergeRules.resolve(.color, current: .text("blue"), currentWrite: Self.late, change: change, write: tie)
            == .conflict(changeWins: true))
        // An unknown old value (a value sent again after a restore) is a concurrent edit too.
        let unknown = ChangeEntry.FieldChange(old: .null, new: .text("lost"))
        #expect(MergeRules.resolve(.note, current: .text("new"), currentWrite: Self.late, change: unknown, write: Self.early)
            == .conflict(changeWins: false))
        #expect(MergeRules.resolve(.tags, current: .list(["x"]), currentWrite: Self.late, change: .init(old: .null, new: .list(["y"])), write: Self.early)
            == .merged(.list(["x", "y"])))
    }

    @Test func aDeleteOfValuesOthersChangedSinceIsStale() {
        let current: [RecordField: FieldValue] = [.note: .text("edited"), .color: .text("red")]
        #expect(MergeRules.deleteIsStale(current: current, old: [.note: .init(old: .text("before"), new: .null)]))
        #expect(!MergeRules.deleteIsStale(current: current, old: [.note: .init(old: .text("edited"), new: .null)]))
    }
}
