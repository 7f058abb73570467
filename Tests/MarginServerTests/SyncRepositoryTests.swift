import Logging
import MarginCore
import MarginTestSupport
import MarginWire
import Testing

@testable import MarginServer

/// The repository protocol, called directly: every test runs on a new SQLite store and on
/// a new PostgreSQL database, and expects the same answers from both.
@Suite struct SyncRepositoryTests {
    /// Two devices of one user, and the records they write.
    static let laptop = "01900000-0000-7000-8000-0000000000a1", desktop = "01900000-0000-7000-8000-0000000000b2"
    static let articleId = "01900000-0000-7000-8000-000000000101", annotationId = "01900000-0000-7000-8000-000000000102"
    static let text = "Hà Nội mùa thu, cây cơm nguội vàng."
    static let now: Int64 = 1_800_000_000_000

    /// Runs `body` with a new, migrated repository of `backend` (PostgreSQL's opened as
    /// `margin-server`'s commands open theirs).
    static func withRepository(_ backend: ServerProcess.Backend, _ body: (any SyncRepository) async throws -> Void) async throws {
        switch backend {
        case .sqlite:
            try await withTemporaryStore { repository, _ in try await body(repository) }
        case .postgres:
            try await withSyncRepository(try ServerDatabase(ServerProcess.postgresDatabase()), logger: Logger(label: "test"), body)
        }
    }

    /// A user with one token; returns the token's hash.
    static func addUser(_ repository: any SyncRepository, _ name: String = "ana") async throws -> String {
        let hash = DeviceToken.hash(DeviceToken.make())
        try await repository.addUser(name: name, tokenHash: hash, now: now)
        return hash
    }

    static func created(_ values: [RecordField: FieldValue]) -> [RecordField: ChangeEntry.FieldChange] {
        values.mapValues { ChangeEntry.FieldChange(old: .null, new: $0) }
    }

    static let articleCreate = WireChange(
        seq: 1, entity: .article, id: articleId, op: .create, baseVersion: 0, hlc: 1_000,
        fields: created([
            .title: .text("Mùa thu"), .published: .null, .source: .null, .contentHash: .text(ContentHash.of(text)),
            .captions: .list([]), .tags: .list([]), .createdAt: .integer(now),
        ]))

    static let annotationCreate = WireChange(
        seq: 2, entity: .annotation, id: annotationId, op: .create, baseVersion: 0, hlc: 1_001,
        fields: created([
            .articleId: .text(articleId), .start: .integer(0), .end: .integer(6), .exact: .text("Hà Nội"), .prefix: .text(""),
            .suffix: .text(" mùa thu"), .note: .text("first"), .tags: .list(["city"]), .color: .text("yellow"), .createdAt: .integer(now),
        ]))

    static func noteUpdate(_ note: String, from old: String, seq: Int64, baseVersion: Int64, hlc: Int64) -> WireChange {
        WireChange(
            seq: seq, entity: .annotation, id: annotationId, op: .update, baseVersion: baseVersion, hlc: hlc,
            fields: [.note: .init(old: .text(old), new: .text(note))])
    }

    static func push(
        _ repository: any SyncRepository, _ changes: [WireChange], bodies: [WireBody] = [], user: Int64, device: String = laptop,
        at time: Int64 = now
    ) async throws -> [ChangeResult.Outcome] {
        let outcome = try await repository.push(
            CheckedPush(PushRequest(changes: changes, bodies: bodies)), userId: user, deviceId: device, now: time)
        return outcome.response.results.map(\.outcome)
    }

    /// Every page from `cursor` on, as a device receives them.
    static func pull(
        _ repository: any SyncRepository, from cursor: Int64 = 0, user: Int64, device: String = laptop
    ) async throws -> PullResponse {
        var request = PullRequest(cursor: cursor, bound: nil, limit: 1, snapshot: cursor == 0)
        var records: [ServerRecord] = []
        while true {
            let page = try await repository.pull(request, userId: user, deviceId: device, byteLimit: 1 << 20)
            let response = try PullResponse(jsonBytes: page.jsonBytes(protocolVersion: SyncProtocol.version))
            records += response.records
            guard response.more, !response.reset else {
                return PullResponse(
                    records: records, cursor: response.cursor, bound: response.bound, more: false, reset: response.reset,
                    history: response.history)
            }
            request.follow(response)
        }
    }

    /// Expects `body` to fail with `expected`'s code and message.
    static func expectRefusal<T>(
        _ expected: ServerError, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T
    ) async {
        let error = await #expect(throws: ServerError.self, sourceLocation: sourceLocation) { try await body() }
        #expect(error?.code == expected.code, sourceLocation: sourceLocation)
        #expect(error?.message == expected.message, sourceLocation: sourceLocation)
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func aTokenBindsToItsFirstDeviceAndARevokedUserIsRefused(_ backend: ServerProcess.Backend) async throws {
        try await Self.withRepository(backend) { repository in
            let token = try await Self.addUser(repository)
            let user = try await repository.authenticate(tokenHash: token, deviceId: Self.laptop, now: Self.now)
            #expect(try await repository.authenticate(tokenHash: token, deviceId: Self.laptop, now: Self.now + 1) == user)
            await Self.expectRefusal(ServerError.tokenOfAnotherDevice) {
                try await repository.authenticate(tokenHash: token, deviceId: Self.desktop, now: Self.now)
            }
            await Self.expectRefusal(ServerError.unknownToken) {
                try await repository.authenticate(tokenHash: DeviceToken.hash(DeviceToken.make()), deviceId: Self.laptop, now: Self.now)
            }
            await Self.expectRefusal(ServerError.userExists("ana")) {
                try await repository.addUser(name: "ana", tokenHash: DeviceToken.hash(DeviceToken.make()), now: Self.now)
            }

            try await repository.revokeUser(name: "ana", now: Self.now)
            await Self.expectRefusal(ServerError.unknownToken) {
                try await repository.authenticate(tokenHash: token, deviceId: Self.laptop, now: Self.now)
            }
            #expect(try await repository.users().map(\.name) == ["ana"])
            #expect(try await repository.users().map(\.revoked) == [true])
        }
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func aPushIsAppliedOnceAndPulledBackWithItsBody(_ backend: ServerProcess.Backend) async throws {
        try await Self.withRepository(backend) { repository in
            let user = try await repository.authenticate(tokenHash: Self.addUser(repository), deviceId: Self.laptop, now: Self.now)
            let changes = [Self.articleCreate, Self.annotationCreate]
            let body = WireBody(hash: ContentHash.of(Self.text), text: Self.text)

            #expect(try await Self.push(repository, changes, bodies: [body], user: user) == [.applied, .applied])
            // A retry of the same push (its reply was lost) applies nothing twice.
            #expect(try await Self.push(repository, changes, bodies: [body], user: user) == [.alreadyApplied, .alreadyApplied])

            let pulled = try await Self.pull(repository, user: user, device: Self.desktop)
            #expect(pulled.records.map(\.id) == [Self.articleId, Self.annotationId])
            #expect(pulled.records.map(\.version) == [1, 2])
            #expect(pulled.records.map(\.device) == [Self.laptop, Self.laptop])
            #expect(pulled.records[1].fields[.note] == .text("first"))
            #expect(pulled.records[1].fields[.tags] == .list(["city"]))
            #expect(try await repository.bodies([body.hash], userId: user, byteLimit: 1 << 20) == [body])

            let caughtUp = try await Self.pull(repository, from: pulled.cursor, user: user, device: Self.desktop)
            #expect(caughtUp.records.isEmpty && !caughtUp.reset)
            #expect(caughtUp.cursor == pulled.cursor)
        }
    }

    /// Two devices edit the same note from the same version: the later clock wins, and the
    /// losing value is kept as a conflict record that both devices pull.
    @Test(arguments: ServerProcess.Backend.allCases)
    func concurrentEditsOfANoteKeepTheLoserAsAConflict(_ backend: ServerProcess.Backend) async throws {
        try await Self.withRepository(backend) { repository in
            let user = try await repository.authenticate(tokenHash: Self.addUser(repository), deviceId: Self.laptop, now: Self.now)
            try await repository.addToken(userName: "ana", tokenHash: DeviceToken.hash("second"), now: Self.now)
            _ = try await repository.authenticate(tokenHash: DeviceToken.hash("second"), deviceId: Self.desktop, now: Self.now)
            let body = WireBody(hash: ContentHash.of(Self.text), text: Self.text)
            _ = try await Self.push(repository, [Self.articleCreate, Self.annotationCreate], bodies: [body], user: user)

            let later = Self.noteUpdate("desktop's", from: "first", seq: 1, baseVersion: 2, hlc: 3_000)
            #expect(try await Self.push(repository, [later], user: user, device: Self.desktop) == [.applied])
            let earlier = Self.noteUpdate("laptop's", from: "first", seq: 3, baseVersion: 2, hlc: 2_000)
            #expect(try await Self.push(repository, [earlier], user: user) == [.conflict])

            let pulled = try await Self.pull(repository, user: user)
            let annotation = try #require(pulled.records.first { $0.id == Self.annotationId })
            #expect(annotation.fields[.note] == .text("desktop's"))
            let conflict = try #require(pulled.records.first { $0.entity == .conflict })
            #expect(conflict.fields[.recordId] == .text(Self.annotationId))
            #expect(conflict.fields[.field] == .text(RecordField.note.rawValue))
            #expect(conflict.fields[.value] == .text("laptop's"))
        }
    }

    /// Compaction purges what was deleted before the cutoff; a device whose cursor is older
    /// than the purge is told to start over, and its snapshot no longer holds the record.
    @Test(arguments: ServerProcess.Backend.allCases)
    func compactionPurgesDeletesAndResetsOlderCursors(_ backend: ServerProcess.Backend) async throws {
        try await Self.withRepository(backend) { repository in
            let user = try await repository.authenticate(tokenHash: Self.addUser(repository), deviceId: Self.laptop, now: Self.now)
            let body = WireBody(hash: ContentHash.of(Self.text), text: Self.text)
            _ = try await Self.push(repository, [Self.articleCreate], bodies: [body], user: user)
            let before = try await Self.pull(repository, user: user, device: Self.desktop)
            let delete = WireChange(
                seq: 2, entity: .article, id: Self.articleId, op: .delete, baseVersion: 1, hlc: 2_000,
                fields: Self.articleCreate.fields.mapValues { ChangeEntry.FieldChange(old: $0.new, new: .null) })
            #expect(try await Self.push(repository, [delete], user: user, at: Self.now + 1_000) == [.applied])

            #expect(try await repository.compact(deletedBefore: Self.now) == 0)
            #expect(try await repository.compact(deletedBefore: Self.now + 2_000) == 1)

            #expect(try await Self.pull(repository, from: before.cursor, user: user, device: Self.desktop).reset)
            let snapshot = try await Self.pull(repository, user: user, device: Self.desktop)
            #expect(snapshot.records.isEmpty && !snapshot.reset)
        }
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func devicesAreListedAndRevokedOneByOne(_ backend: ServerProcess.Backend) async throws {
        try await Self.withRepository(backend) { repository in
            let first = try await Self.addUser(repository)
            let second = DeviceToken.hash(DeviceToken.make())
            try await repository.addToken(userName: "ana", tokenHash: second, now: Self.now)
            await Self.expectRefusal(ServerError.noActiveUser("ben")) {
                try await repository.addToken(userName: "ben", tokenHash: DeviceToken.hash(DeviceToken.make()), now: Self.now)
            }
            _ = try await repository.authenticate(tokenHash: first, deviceId: Self.laptop, now: Self.now)
            _ = try await repository.authenticate(tokenHash: second, deviceId: Self.desktop, now: Self.now)
            #expect(try await Set(repository.devices(userName: "ana").compactMap(\.deviceId)) == [Self.laptop, Self.desktop])

            #expect(try await repository.revokeDevice(String(Self.laptop.prefix(36)), now: Self.now) == Self.laptop)
            await Self.expectRefusal(ServerError.unknownToken) {
                try await repository.authenticate(tokenHash: first, deviceId: Self.laptop, now: Self.now)
            }
            _ = try await repository.authenticate(tokenHash: second, deviceId: Self.desktop, now: Self.now)
            let devices = try await repository.devices(userName: "ana")
            #expect(devices.first { $0.deviceId == Self.laptop }?.revokedAt == Self.now)
            #expect(devices.first { $0.deviceId == Self.desktop }?.revokedAt == nil)
        }
    }
}
