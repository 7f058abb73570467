import MarginCore
import MarginWire
import Testing

@testable import MarginServer

/// The resolution rules (README, "Conflicts"), on the planner alone.
@Suite struct PushPlannerTests {
    static let deviceA = "01900000-0000-7000-8000-00000000000a"
    static let deviceB = "01900000-0000-7000-8000-00000000000b"
    static let articleId = "01900000-0000-7000-8000-000000000001"
    static let annotationId = "01900000-0000-7000-8000-000000000002"
    static let hash = String(repeating: "a", count: 64)

    /// An annotation last written at version 5 by device A at clock 1000.
    static func annotation(note: String = "base", tags: [String] = ["t"], color: String = "yellow") -> StoredRecord {
        let fields: [RecordField: FieldValue] = [
            .articleId: .text(articleId), .start: .integer(0), .end: .integer(4), .exact: .text("text"),
            .prefix: .text(""), .suffix: .text(""), .note: .text(note), .tags: .list(tags), .color: .text(color),
            .createdAt: .integer(1),
        ]
        return StoredRecord(
            entity: .annotation, id: annotationId, version: 5, deleted: false, fields: fields,
            meta: fields.mapValues { _ in FieldMeta(version: 5, hlc: 1_000, device: deviceA) }, device: deviceA, hlc: 1_000,
            updatedAt: 0, deletedAt: nil)
    }

    static var article: StoredRecord {
        let fields: [RecordField: FieldValue] = [
            .title: .text("T"), .published: .null, .source: .null, .contentHash: .text(hash), .captions: .list([]),
            .tags: .list([]), .createdAt: .integer(1),
        ]
        return StoredRecord(
            entity: .article, id: articleId, version: 4, deleted: false, fields: fields,
            meta: fields.mapValues { _ in FieldMeta(version: 4, hlc: 900, device: deviceA) }, device: deviceA, hlc: 900,
            updatedAt: 0, deletedAt: nil)
    }

    static func update(
        _ fields: [RecordField: ChangeEntry.FieldChange], seq: Int64 = 1, hlc: Int64 = 2_000, baseVersion: Int64 = 3
    ) -> WireChange {
        WireChange(seq: seq, entity: .annotation, id: annotationId, op: .update, baseVersion: baseVersion, hlc: hlc, fields: fields)
    }

    static func plan(
        _ changes: [WireChange], records: [StoredRecord], device: String = deviceB, lastApplied: Int64 = 0,
        refusals: [Int64: String] = [:], bodies: [WireBody] = [], storedBodies: Set<String> = []
    ) -> PushPlan {
        var snapshot = PushSnapshot(lastSeq: 10, lastAppliedSeq: lastApplied)
        for record in records { snapshot.records[record.id] = record }
        snapshot.liveAnnotationsByArticle[articleId] = Set(records.filter { $0.entity == .annotation && !$0.deleted }.map(\.id))
        for record in records where !record.deleted { if let hash = record.contentHash { snapshot.liveArticleByHash[hash] = record.id } }
        snapshot.storedBodies = storedBodies
        return PushPlanner(snapshot: snapshot, deviceId: device, now: 5_000, refusals: refusals).plan(changes, bodies: bodies)
    }

    static func newText(_ text: String, hlc: Int64 = 2_000, seq: Int64 = 1, id: String = articleId) -> WireChange {
        WireChange(
            seq: seq, entity: .article, id: id, op: .update, baseVersion: 4, hlc: hlc,
            fields: [.contentHash: .init(old: .text(hash), new: .text(ContentHash.of(text)))])
    }

    @Test func aNewTextIsAppliedWithItsBodyAndRefusedWithout() throws {
        let text = "The corrected text."
        let withBody = Self.plan([Self.newText(text)], records: [Self.article], bodies: [WireBody(hash: ContentHash.of(text), text: text)])
        let stored = Self.plan([Self.newText(text)], records: [Self.article], storedBodies: [ContentHash.of(text)])
        let without = Self.plan([Self.newText(text)], records: [Self.article])
        let forged = Self.plan([Self.newText(text)], records: [Self.article], bodies: [WireBody(hash: ContentHash.of(text), text: "Other text.")])

        #expect(withBody.results.map(\.outcome) == [.applied])
        #expect(try written(withBody, Self.articleId).fields[.contentHash] == .text(ContentHash.of(text)))
        #expect(withBody.newBodies == [WireBody(hash: ContentHash.of(text), text: text)])
        #expect(stored.results.map(\.outcome) == [.applied])
        #expect(stored.newBodies.isEmpty)
        for refused in [without, forged] {
            #expect(refused.results.map(\.outcome) == [.rejected])
            #expect(refused.results.first?.reason == "the article's new body is missing or does not match its contentHash; send it in bodies")
            #expect(refused.written.isEmpty)
        }
    }

    @Test func aNewTextThatIsAnotherLiveArticlesIsRefused() throws {
        var other = Self.article
        other.id = "01900000-0000-7000-8000-000000000009"
        other.fields[.contentHash] = .text(ContentHash.of("Taken."))
        let plan = Self.plan([Self.newText("Taken.")], records: [Self.article, other], storedBodies: [ContentHash.of("Taken.")])

        #expect(plan.results.map(\.outcome) == [.rejected])
        #expect(plan.results.first?.reason == "the library already holds this text as article \(other.id)")
    }

    @Test func concurrentNewTextsGoToTheLaterClockAndKeepTheLoser() throws {
        var article = Self.article
        article.fields[.contentHash] = .text(ContentHash.of("Device A's text."))
        article.meta[.contentHash] = FieldMeta(version: 6, hlc: 3_000, device: Self.deviceA)
        article.version = 6
        let earlier = Self.plan([Self.newText("Device B's text.", hlc: 2_000)], records: [article], storedBodies: [ContentHash.of("Device B's text.")])
        let later = Self.plan([Self.newText("Device B's text.", hlc: 4_000)], records: [article], storedBodies: [ContentHash.of("Device B's text.")])

        #expect(earlier.results.map(\.outcome) == [.conflict])
        #expect(!earlier.written.contains { $0.id == Self.articleId })
        #expect(earlier.written.contains { $0.entity == .conflict && $0.fields[.value] == .text(ContentHash.of("Device B's text.")) })
        #expect(later.results.map(\.outcome) == [.conflict])
        #expect(try written(later, Self.articleId).fields[.contentHash] == .text(ContentHash.of("Device B's text.")))
        #expect(later.written.contains { $0.entity == .conflict && $0.fields[.value] == .text(ContentHash.of("Device A's text.")) })
    }

    private func written(_ plan: PushPlan, _ id: String) throws -> StoredRecord {
        try #require(plan.written.first { $0.id == id })
    }

    @Test func aChangeToAValueNobodyElseTouchedIsAppliedWithTheNextVersion() throws {
        let plan = Self.plan([Self.update([.note: .init(old: .text("base"), new: .text("mine"))])], records: [Self.annotation()])

        #expect(plan.results.map(\.outcome) == [.applied])
        let record = try written(plan, Self.annotationId)
        #expect(record.fields[.note] == .text("mine"))
        #expect(record.version == 11)
        #expect(record.meta[.note] == FieldMeta(version: 11, hlc: 2_000, device: Self.deviceB))
        #expect(plan.lastSeq == 11)
        #expect(plan.lastAppliedSeq == 1)
    }

    @Test func anAppliedChangeToARecordOthersWroteSinceRepliesWithTheWholeRecord() throws {
        // Another device changed the color after this device read the record at version 3.
        let others = Self.plan(
            [Self.update([.note: .init(old: .text("base"), new: .text("mine"))])], records: [Self.annotation(color: "blue")])
        #expect(others.results.map(\.outcome) == [.applied])
        #expect(others.reply.map(\.id) == [Self.annotationId])
        #expect(others.reply.first?.fields[.color] == .text("blue"))

        // Read at the current version: the device knows the rest; the result is enough.
        let known = Self.plan(
            [Self.update([.note: .init(old: .text("base"), new: .text("mine"))], baseVersion: 5)], records: [Self.annotation()])
        #expect(known.results.map(\.outcome) == [.applied])
        #expect(known.reply.isEmpty)
    }

    @Test func tagsMergeAsSetsKeepingAddsAndRemovesOfBothSides() throws {
        // The server has {t, server}; this device saw {t, gone} and made it {t, mine}.
        let server = Self.annotation(tags: ["server", "t"])
        let plan = Self.plan(
            [Self.update([.tags: .init(old: .list(["gone", "t"]), new: .list(["mine", "t"]))])], records: [server])

        #expect(plan.results.map(\.outcome) == [.merged])
        #expect(try written(plan, Self.annotationId).fields[.tags] == .list(["mine", "server", "t"]))
    }

    @Test func notesEditedInDifferentPlacesAreMergedThreeWays() throws {
        let server = Self.annotation(note: "first line\nsecond LINE")
        let plan = Self.plan(
            [Self.update([.note: .init(old: .text("first line\nsecond line"), new: .text("FIRST line\nsecond line"))])],
            records: [server])

        #expect(plan.results.map(\.outcome) == [.merged])
        #expect(try written(plan, Self.annotationId).fields[.note] == .text("FIRST line\nsecond LINE"))
        #expect(plan.conflicts == 0)
    }

    @Test func overlappingNoteEditsGoToTheLaterClockAndKeepTheLoser() throws {
        let server = Self.annotation(note: "theirs")
        let later = Self.plan([Self.update([.note: .init(old: .text("base"), new: .text("mine"))], hlc: 2_000)], records: [server])
        let earlier = Self.plan([Self.update([.note: .init(old: .text("base"), new: .text("mine"))], hlc: 500)], records: [server])

        #expect(later.results.map(\.outcome) == [.conflict])
        #expect(try written(later, Self.annotationId).fields[.note] == .text("mine"))
        let lostByServer = try #require(later.written.first { $0.entity == .conflict })
        #expect(lostByServer.fields[.value] == .text("theirs"))
        #expect(lostByServer.fields[.device] == .text(Self.deviceA))
        #expect(lostByServer.fields[.recordId] == .text(Self.annotationId))

        #expect(earlier.results.map(\.outcome) == [.conflict])
        #expect(earlier.written.allSatisfy { $0.entity == .conflict })
        let lostByDevice = try #require(earlier.written.first)
        #expect(lostByDevice.fields[.value] == .text("mine"))
        #expect(lostByDevice.fields[.device] == .text(Self.deviceB))
    }

    @Test func equalClocksAreBrokenByTheLargerDeviceId() throws {
        let server = Self.annotation(color: "red")
        // Device B > device A, same clock: B wins.
        let plan = Self.plan([Self.update([.color: .init(old: .text("yellow"), new: .text("blue"))], hlc: 1_000)], records: [server])
        #expect(try written(plan, Self.annotationId).fields[.color] == .text("blue"))
    }

    @Test func anEditOfADeletedRecordBringsItBackAndKeepsTheDelete() throws {
        var tombstone = Self.annotation()
        tombstone.deleted = true
        tombstone.deletedAt = 1
        let plan = Self.plan([Self.update([.note: .init(old: .text("base"), new: .text("still wanted"))])], records: [tombstone])

        #expect(plan.results.map(\.outcome) == [.conflict])
        let record = try written(plan, Self.annotationId)
        #expect(!record.deleted)
        #expect(record.deletedAt == nil)
        #expect(record.fields[.note] == .text("still wanted"))
        let conflict = try #require(plan.written.first { $0.entity == .conflict })
        #expect(conflict.fields[.kind] == .text("delete"))
        #expect(conflict.fields[.device] == .text(Self.deviceA))
    }

    @Test func aDeleteOfARecordEditedSinceIsKeptAsAConflictNotApplied() throws {
        let server = Self.annotation(note: "edited elsewhere")
        let delete = WireChange(
            seq: 1, entity: .annotation, id: Self.annotationId, op: .delete, baseVersion: 3, hlc: 3_000,
            fields: [.note: .init(old: .text("base"), new: .null)])
        let plan = Self.plan([delete], records: [server])

        #expect(plan.results.map(\.outcome) == [.conflict])
        #expect(plan.written.allSatisfy { $0.entity == .conflict })
        #expect(plan.written.first?.fields[.kind] == .text("delete"))
    }

    @Test func anArticleWithAnnotationsTheDeleterDidNotSeeIsNotDeleted() throws {
        let delete = WireChange(
            seq: 1, entity: .article, id: Self.articleId, op: .delete, baseVersion: 4, hlc: 3_000,
            fields: [.title: .init(old: .text("T"), new: .null)])
        let plan = Self.plan([delete], records: [Self.article, Self.annotation()])

        #expect(plan.results.map(\.outcome) == [.conflict])
        #expect(plan.written.allSatisfy { $0.entity == .conflict })
    }

    @Test func changesAlreadyAppliedAreAnsweredSoAndChangeNothing() throws {
        let change = Self.update([.note: .init(old: .text("base"), new: .text("mine"))], seq: 7)
        let plan = Self.plan([change], records: [Self.annotation()], lastApplied: 7)

        #expect(plan.results.map(\.outcome) == [.alreadyApplied])
        #expect(plan.results.first?.version == 5)
        #expect(plan.written.isEmpty)
        #expect(plan.lastSeq == 10)
        #expect(plan.reply.map(\.id) == [Self.annotationId])
        // With its article read, the article comes first: the first reply, lost, may have
        // carried it (the change brought it back).
        let withArticle = Self.plan([change], records: [Self.article, Self.annotation()], lastApplied: 7)
        #expect(withArticle.reply.map(\.id) == [Self.articleId, Self.annotationId])
        #expect(withArticle.written.isEmpty)
    }

    @Test func aGapInTheDeviceSequenceIsRefused() {
        let change = Self.update([:], seq: 9)
        #expect(throws: ServerError.self) { try PushPlanner.checkSequence([change], lastAppliedSeq: 7) }
        #expect(throws: ServerError.self) {
            try PushPlanner.checkSequence([Self.update([:], seq: 8), Self.update([:], seq: 8)], lastAppliedSeq: 7)
        }
        #expect(throws: Never.self) {
            try PushPlanner.checkSequence([Self.update([:], seq: 6), Self.update([:], seq: 8)], lastAppliedSeq: 7)
        }
    }

    @Test func aDeviceResumingAfterARestoreNamesTheLastChangeTheServerHas() {
        // Changes 8 to 19 were lost with the server's history: the device resumes at 20.
        #expect(throws: Never.self) { try PushPlanner.checkSequence([Self.update([:], seq: 20)], lastAppliedSeq: 7, after: 7) }
        #expect(throws: ServerError.self) { try PushPlanner.checkSequence([Self.update([:], seq: 20)], lastAppliedSeq: 7) }
        // It must know where the server is.
        #expect(throws: ServerError.self) { try PushPlanner.checkSequence([Self.update([:], seq: 20)], lastAppliedSeq: 7, after: 5) }
        // Past the resumed change, numbering is gapless again.
        #expect(throws: ServerError.self) {
            try PushPlanner.checkSequence([Self.update([:], seq: 20), Self.update([:], seq: 22)], lastAppliedSeq: 7, after: 7)
        }
    }

    @Test func aRefusedChangeTakesItsNumberChangesNothingAndRepliesWithTheRecord() throws {
        let changes = [
            Self.update([.note: .init(old: .text("base"), new: .text("refused"))], seq: 1),
            Self.update([.color: .init(old: .text("yellow"), new: .text("blue"))], seq: 2, baseVersion: 5),
        ]
        let plan = Self.plan(changes, records: [Self.annotation()], refusals: [1: "field 'note' is too long"])

        #expect(plan.results.map(\.outcome) == [.rejected, .applied])
        #expect(plan.results.first?.reason == "field 'note' is too long")
        #expect(plan.lastAppliedSeq == 2)
        let record = try written(plan, Self.annotationId)
        #expect(record.fields[.note] == .text("base"))
        #expect(record.fields[.color] == .text("blue"))
        #expect(plan.reply.map(\.id) == [Self.annotationId])
    }

    @Test func aDeleteOfARecordTheLibraryDoesNotHaveIsAppliedAsNothingToDo() {
        let delete = WireChange(
            seq: 1, entity: .annotation, id: Self.annotationId, op: .delete, baseVersion: 0, hlc: 1,
            fields: Self.annotation().fields.mapValues { ChangeEntry.FieldChange(old: $0, new: .null) })
        let plan = Self.plan([delete], records: [])
        #expect(plan.results.map(\.outcome) == [.applied])
        #expect(plan.written.isEmpty)
        #expect(plan.commit == nil)
    }

    @Test func aRecordSentAgainOverItsTombstoneComesBackAndKeepsTheDelete() throws {
        var tombstone = Self.annotation()
        tombstone.deleted = true
        tombstone.deletedAt = 1
        let create = WireChange(
            seq: 1, entity: .annotation, id: Self.annotationId, op: .create, baseVersion: 0, hlc: 3_000,
            fields: Self.annotation(note: "kept elsewhere").fields.mapValues { ChangeEntry.FieldChange(old: .null, new: $0) })
        let plan = Self.plan([create], records: [tombstone, Self.article])

        #expect(plan.results.map(\.outcome) == [.conflict])
        let record = try written(plan, Self.annotationId)
        #expect(!record.deleted)
        #expect(record.fields[.note] == .text("kept elsewhere"))
        let kept = try #require(plan.written.first { $0.entity == .conflict })
        #expect(kept.fields[.kind] == .text("delete"))
        #expect(plan.commit?.firstSeq == 11 && plan.commit?.lastSeq == 12)
    }

    @Test func aConflictRecordSentAgainIsCreatedOnceAndKeptAsTheLibraryHasIt() throws {
        let lost = ConflictRecord(
            id: "01900000-0000-7000-8000-0000000000c1", recordEntity: .annotation, recordId: Self.annotationId, kind: .value,
            field: .note, value: .text("lost"), device: Self.deviceA, hlc: 7, createdAt: Timestamp(milliseconds: 1))
        let create = WireChange(
            seq: 1, entity: .conflict, id: lost.id, op: .create, baseVersion: 0, hlc: 7,
            fields: lost.fieldValues.mapValues { ChangeEntry.FieldChange(old: .null, new: $0) })
        let first = Self.plan([create], records: [])
        #expect(first.results.map(\.outcome) == [.applied])
        let stored = try written(first, lost.id)
        #expect(ConflictRecord(id: stored.id, fields: stored.fields) == lost)

        var dismissed = stored
        dismissed.deleted = true
        let again = Self.plan([create], records: [dismissed])
        #expect(again.results.map(\.outcome) == [.merged])
        #expect(again.written.isEmpty)
        #expect(again.reply.map(\.deleted) == [true])
    }

    @Test func anArticleWithABodyTheLibraryHasBecomesAnAliasOfIt() throws {
        var fields = Self.article.fields.mapValues { ChangeEntry.FieldChange(old: .null, new: $0) }
        fields[.tags] = .init(old: .null, new: .list(["imported-twice"]))
        let otherId = "01900000-0000-7000-8000-0000000000ff"
        let create = WireChange(seq: 1, entity: .article, id: otherId, op: .create, baseVersion: 0, hlc: 3_000, fields: fields)
        var snapshot = PushSnapshot(lastSeq: 10, lastAppliedSeq: 0)
        snapshot.records[Self.articleId] = Self.article
        snapshot.liveArticleByHash[Self.hash] = Self.articleId
        let plan = PushPlanner(snapshot: snapshot, deviceId: Self.deviceB, now: 5_000).plan([create], bodies: [])

        #expect(plan.results.first?.outcome == .merged)
        #expect(plan.results.first?.canonicalId == Self.articleId)
        #expect(plan.newAliases.map(\.alias) == [otherId])
        #expect(try written(plan, Self.articleId).fields[.tags] == .list(["imported-twice"]))
    }

    @Test func editsOfADeletedArticleWhoseBodyIsLiveAgainGoToThatArticle() throws {
        var tombstone = Self.article
        tombstone.deleted = true
        tombstone.deletedAt = 1
        var again = Self.article
        again.id = "01900000-0000-7000-8000-0000000000ff"
        var snapshot = PushSnapshot(lastSeq: 10, lastAppliedSeq: 0)
        snapshot.records = [tombstone.id: tombstone, again.id: again]
        snapshot.liveArticleByHash[Self.hash] = again.id
        func plan(_ change: WireChange) -> PushPlan {
            PushPlanner(snapshot: snapshot, deviceId: Self.deviceB, now: 5_000).plan([change], bodies: [])
        }

        let edit = plan(
            WireChange(
                seq: 1, entity: .article, id: Self.articleId, op: .update, baseVersion: 4, hlc: 3_000,
                fields: [.tags: .init(old: .list([]), new: .list(["kept"]))]))
        #expect(edit.results.map(\.outcome) == [.merged])
        #expect(edit.results.first?.canonicalId == again.id)
        #expect(edit.newAliases.map(\.alias) == [Self.articleId] && edit.newAliases.map(\.id) == [again.id])
        // The deleted article stays deleted, with no conflict: its edit lives on in the other.
        #expect(edit.written.map(\.id) == [again.id])
        #expect(try written(edit, again.id).fields[.tags] == .list(["kept"]))

        var fields = Self.annotation().fields.mapValues { ChangeEntry.FieldChange(old: .null, new: $0) }
        fields[.articleId] = .init(old: .null, new: .text(Self.articleId))
        let annotated = plan(
            WireChange(seq: 1, entity: .annotation, id: Self.annotationId, op: .create, baseVersion: 0, hlc: 3_000, fields: fields))
        #expect(annotated.results.map(\.outcome) == [.merged])
        #expect(annotated.newAliases.map(\.alias) == [Self.articleId])
        #expect(try written(annotated, Self.annotationId).fields[.articleId] == .text(again.id))
        #expect(!annotated.written.contains { $0.id == Self.articleId || $0.entity == .conflict })
        // The article comes first in the reply: the device renames its copy, then takes the annotation.
        #expect(annotated.reply.map(\.id) == [again.id, Self.annotationId])
    }

    @Test func anArticleWithoutItsBodyIsRejected() throws {
        let fields = Self.article.fields.mapValues { ChangeEntry.FieldChange(old: .null, new: $0) }
        let create = WireChange(seq: 1, entity: .article, id: Self.articleId, op: .create, baseVersion: 0, hlc: 1, fields: fields)
        let plan = Self.plan([create], records: [])

        #expect(plan.results.first?.outcome == .rejected)
        #expect(plan.written.isEmpty)
        #expect(plan.lastAppliedSeq == 1)
    }

    @Test func storedMetadataLeavesOutTheLastWriteAndReadsBackWhole() throws {
        var record = Self.annotation()
        record.version = 9
        record.hlc = 2_000
        record.device = Self.deviceB
        record.meta[.note] = FieldMeta(version: 9, hlc: 2_000, device: Self.deviceB)

        let stored = record.metaJSON
        let read = try StoredRecord(
            entity: "annotation", id: record.id, version: 9, deleted: false, fields: record.fieldsJSON, meta: stored,
            device: Self.deviceB, hlc: 2_000, updatedAt: 0, deletedAt: nil)

        #expect(!stored.contains("\"note\""))
        #expect(stored.contains("\"color\":[5,1000,"))
        #expect(read == record)
    }
}
