import Foundation
import MarginCore
import MarginStore
import Testing

/// `undo` takes back changes made on this device as new logged changes, and refuses what
/// would overwrite a later change; `history` lists a record's changes.
@Suite struct UndoTests {
    @Test func repeatedUndosWalkBackThroughTheLogAndAnUndoOfAnUndoMakesTheChangeAgain() throws {
        let fixture = try StoreFixture()
        let store = fixture.store
        let article = try #require(try fixture.importSeeds()["2025-10-20"])
        let annotation = try store.annotate(articleId: article.id, target: .range(0..<20), note: "first", tags: ["a"])
        _ = try store.editAnnotation(id: annotation.id, AnnotationChanges(note: "second"))
        _ = try store.editAnnotation(id: annotation.id, AnnotationChanges(addTags: ["b"], color: .blue))
        let logged = try store.changes().count

        let first = try store.undo()
        let second = try store.undo()

        #expect(first.undone.fields.keys.sorted { $0.rawValue < $1.rawValue } == [.color, .tags])
        #expect(second.undone.fields.keys.map(\.rawValue) == ["note"])
        let now = try #require(try store.annotations(articleId: article.id).first?.annotation)
        #expect(now.note == "first" && now.tags == ["a"] && now.color == .yellow)
        #expect(try store.changes().count == logged + 2)
        let history = try store.history(of: annotation.id)
        #expect(history.map(\.op) == [.create, .update, .update, .update, .update])
        #expect(history.map(\.undoOf) == [nil, nil, nil, first.undone.seq, second.undone.seq])
        #expect(history.allSatisfy { $0.origin == .local && $0.pushed == false })

        // Undoing the first undo makes its change again; that undo cannot be undone twice.
        let redo = try store.undo(seq: history[3].seq)
        #expect(redo.undone.seq == history[3].seq)
        #expect(try store.annotations(articleId: article.id).first?.annotation.color == .blue)
        #expect(throws: MarginError.self) { try store.undo(seq: history[3].seq) }
    }

    @Test func aNewAnnotationIsDeletedAndADeletedOneIsMadeAgainUnderANewId() throws {
        let fixture = try StoreFixture()
        let store = fixture.store
        let article = try #require(try fixture.importSeeds()["2025-10-20"])
        let kept = try store.annotate(articleId: article.id, target: .range(5..<25), note: "keep me", tags: ["x"], color: .green)
        try store.deleteAnnotation(id: kept.id)

        let restored = try store.undo()

        #expect(restored.undone.op == .delete && restored.recordId != kept.id)
        let copy = try #require(try store.annotations(articleId: article.id).first)
        #expect(copy.annotation.id == restored.recordId)
        #expect(copy.annotation.note == "keep me" && copy.annotation.tags == ["x"] && copy.annotation.color == .green)
        #expect(copy.annotation.selectors == kept.selectors && copy.anchor.state == .anchored)

        // Walking further back reaches the original's create: that annotation is gone.
        #expect(throws: MarginError.self) { try store.undo() }
        // Undoing the undo deletes the copy.
        let removed = try store.undo(seq: restored.changes.lowerBound)
        #expect(removed.undone.op == .create && removed.undone.entityId == copy.annotation.id)
        #expect(try store.annotations(articleId: article.id).isEmpty)
    }

    @Test func changesMadeSinceAndWhatCannotComeBackAreRefusedAndChangeNothing() throws {
        let fixture = try StoreFixture()
        let store = fixture.store
        let articles = try fixture.importSeeds()
        let article = try #require(articles["2025-10-20"])
        let annotation = try store.annotate(articleId: article.id, target: .range(0..<20), note: "one")
        let edit = try #require(try store.changes().last)
        _ = try store.editAnnotation(id: annotation.id, AnnotationChanges(note: "two"))
        let logged = try store.changes().count

        #expect {
            try store.undo(seq: edit.seq)
        } throws: { error in
            (error as? MarginError)?.message.hasPrefix("the note of annotation \(annotation.id) changed since #\(edit.seq)") == true
        }
        // An import whose article has annotations, a deleted article, a change that is not there.
        let importSeq = try #require(try store.changes().first { $0.entityId == article.id }?.seq)
        #expect(throws: MarginError.self) { try store.undo(seq: importSeq) }
        let other = try #require(articles["2025-10-23"])
        try store.deleteArticle(id: other.id)
        #expect(throws: MarginError.self) { try store.undo() }
        #expect(throws: MarginError.self) { try store.undo(seq: 9_999) }
        #expect(try store.changes().count == logged + 1)  // the article's delete, nothing more
    }

    @Test func anArticleGetsItsEarlierTextBackAndItsHighlightsFollow() throws {
        let fixture = try StoreFixture()
        let store = fixture.store
        func page(_ body: String) throws -> SourcedDocument {
            try SourcedDocument(
                document: ParsedDocument(
                    format: .html, title: "Room", published: nil, body: body, captions: [], url: "https://gazette.example/room"),
                source: "https://gazette.example/room")
        }
        guard case .imported(let article) = try store.importDocuments([try page("The room opened on Monday.\n\nReaders came early.")]).first else {
            Issue.record("not imported")
            return
        }
        let annotation = try store.annotate(articleId: article.id, target: .quote("Readers came early", occurrence: nil))
        _ = try store.importDocuments([try page("The room opened on Tuesday.")])
        #expect(try store.annotations(articleId: article.id).first?.anchor.state == .orphaned)

        let undone = try store.undo()

        #expect(undone.undone.fields[.contentHash] != nil)
        let detail = try store.articleDetail(id: article.id)
        #expect(detail.article.contentHash == article.contentHash)
        #expect(detail.annotations.first?.annotation.id == annotation.id && detail.annotations.first?.anchor.state == .anchored)
        #expect(try store.changes().last?.fields[.contentHash]?.new == .text(article.contentHash))
    }
}
