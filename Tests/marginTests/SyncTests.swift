import Foundation
import MarginCore
import MarginStore
import MarginSync
import MarginTestSupport
import MarginWire
import Testing

/// End to end: real `margin` devices syncing through a real `margin-server` on 127.0.0.1.
@Suite struct SyncTests {
    private func sync(_ devices: MarginProcess...) throws {
        for device in devices { try device.syncQuietly() }
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func twoDevicesEditingOfflineConvergeAndKeepEveryLosingValue(_ backend: ServerProcess.Backend) throws {
        let server = try ServerProcess.start(backend)
        let (laptop, desktop) = try server.twoDevices(of: "ana")
        // Both import the same seeds offline: one set of articles after syncing.
        try laptop.run(["import", MarginProcess.seeds])
        try desktop.run(["import", MarginProcess.seeds])
        try sync(laptop, desktop, laptop)
        let articles = try laptop.articleIds()
        #expect(articles.count == 5)
        #expect(try desktop.articleIds() == articles)

        let merged = try laptop.annotate(articles[0], range: "0:20", note: "first line\nsecond line", tags: ["keep", "drop"])
        let colored = try laptop.annotate(articles[1], range: "0:20", note: "color me")
        let contested = try laptop.annotate(articles[2], range: "0:20", note: "original")
        let deletedThere = try laptop.annotate(articles[3], range: "0:20", note: "delete me?")
        let deletedHere = try laptop.annotate(articles[4], range: "0:20", note: "gone")
        try sync(laptop, desktop)

        // Offline on both machines:
        try laptop.run(["edit", merged, "--note", "FIRST line\nsecond line", "--add-tag", "laptop"])
        try desktop.run(["edit", merged, "--note", "first line\nSECOND line", "--remove-tag", "drop", "--add-tag", "desktop"])
        try desktop.run(["edit", colored, "--color", "blue"])
        try laptop.run(["edit", colored, "--color", "green"])
        try desktop.run(["edit", contested, "--note", "desktop's version"])
        try laptop.run(["edit", contested, "--note", "laptop's version"])
        try laptop.run(["delete", deletedThere])
        try desktop.run(["edit", deletedThere, "--note", "still needed"])
        try desktop.run(["delete", articles[4]])  // with its annotation
        let created = try desktop.annotate(articles[0], range: "30:40", note: "made on the desktop")

        try sync(desktop)
        // The laptop's push loses three values: its sync names them, as margin conflicts does.
        let laptopSync = try laptop.run(["sync", "--json"]).json([String: Any].self)
        let reported = try #require(laptopSync["newConflicts"] as? [[String: Any]])
        #expect(Set(reported.map { "\($0["kind"]!) \($0["field"] ?? "-") \($0["recordId"]!)" })
            == ["value color \(colored)", "value note \(contested)", "delete - \(deletedThere)"])
        // The desktop hears of them at its next sync, in its summary; a sync after that brings none.
        let desktopSync = try desktop.run(["sync"])
        #expect(desktopSync.stdout.contains("3 new conflict(s)"), "\(desktopSync.stdout)")
        #expect(desktopSync.stdout.contains("note of annotation"), "\(desktopSync.stdout)")
        let laptopAgain = try laptop.run(["sync", "--json"]).json([String: Any].self)
        #expect((laptopAgain["newConflicts"] as? [Any])?.isEmpty == true)

        let (laptopLibrary, laptopConflicts) = try laptop.state()
        let (desktopLibrary, desktopConflicts) = try desktop.state()
        #expect(laptopLibrary == desktopLibrary)
        #expect(laptopConflicts == desktopConflicts)
        let mergedNow = try laptop.annotation(merged)
        #expect(mergedNow["note"] as? String == "FIRST line\nSECOND line")
        #expect(mergedNow["tags"] as? [String] == ["desktop", "keep", "laptop"])
        // The laptop's edits came later (clock): its color and note win; the desktop's are kept.
        #expect(try laptop.annotation(colored)["color"] as? String == "green")
        #expect(try laptop.annotation(contested)["note"] as? String == "laptop's version")
        #expect(try laptop.annotation(deletedThere)["note"] as? String == "still needed")
        #expect(try laptop.annotation(created)["note"] as? String == "made on the desktop")
        let all = try laptop.run(["annotations", "--json"]).json([[String: Any]].self)
        #expect(!all.contains { $0["id"] as? String == deletedHere })
        #expect(try laptop.articleIds() == articles.filter { $0 != articles[4] })
        let conflicts = try laptop.run(["conflicts", "list", "--json"]).json([[String: Any]].self)
        let summary = Set(conflicts.map { "\($0["kind"]!) \($0["field"] ?? "-") \($0["recordId"]!) \($0["value"] ?? "null")" })
        #expect(summary == [
            "value color \(colored) blue", "value note \(contested) desktop's version", "delete - \(deletedThere) <null>",
        ])

        // Restoring the losing note on the desktop reaches the laptop, and the conflict is gone on both.
        let noteConflict = try #require(conflicts.first { $0["field"] as? String == "note" }?["id"] as? String)
        #expect(try desktop.run(["conflicts", "restore", noteConflict]).status == 0)
        try sync(desktop, laptop)
        #expect(try laptop.annotation(contested)["note"] as? String == "desktop's version")
        #expect((try laptop.run(["conflicts", "list", "--json"]).json([Any].self)).count == 2)
        #expect(try laptop.state().library == desktop.state().library)
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func anEditOfOneFieldOverAnotherDevicesEditOfAnotherKeepsBothOnBoth(_ backend: ServerProcess.Backend) throws {
        let server = try ServerProcess.start(backend)
        let (laptop, desktop) = try server.twoDevices(of: "ana")
        try laptop.run(["import", MarginProcess.seeds])
        let annotation = try laptop.annotate(try laptop.articleIds()[0], range: "0:20", note: "first")
        try sync(laptop, desktop)

        try desktop.run(["edit", annotation, "--color", "blue"])
        try sync(desktop)
        // The laptop has not pulled the color: its note edit still applies as sent.
        try laptop.run(["edit", annotation, "--note", "second"])
        try sync(laptop, desktop)

        for device in [laptop, desktop] {
            let now = try device.annotation(annotation)
            #expect(now["note"] as? String == "second")
            #expect(now["color"] as? String == "blue")
        }
        #expect(try laptop.state().library == desktop.state().library)
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func aPushWhoseReplyWasLostIsAppliedOnceWhenRetried(_ backend: ServerProcess.Backend) throws {
        let server = try ServerProcess.start(backend)
        let token = try server.addUser("lost")
        let device = try server.device(token: token)
        try device.run(["import", MarginProcess.seeds])
        let article = try device.articleIds()[0]
        _ = try device.annotate(article, range: "0:10", note: "once")
        let store = try LibraryStore(path: device.store)
        let batch = try store.pendingPush(maxCount: 100, maxBytes: 1 << 22)

        // The first attempt reaches the server, but its reply never reaches the device.
        let first = try server.post("push", body: batch.jsonBytes, token: token, deviceId: try store.deviceId())
        #expect(first.status == 200)
        let retry = try device.run(["sync", "--json"])

        #expect(retry.status == 0, "\(retry.stderr)")
        let report = try retry.json([String: Any].self)
        #expect((report["outcomes"] as? [String: Int]) == ["already_applied": 6])
        #expect(try store.syncStatus().pendingChanges == 0)
        let other = try server.device(token: try server.issueToken("lost"))
        try sync(other)
        #expect(try other.state().library == device.state().library)
        let users = try server.users()
        #expect(users.first?["records"] as? Int == 6)
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func anInterruptedPullResumesWhereItStopped(_ backend: ServerProcess.Backend) throws {
        let server = try ServerProcess.start(backend)
        let writer = try server.device(token: try server.addUser("pages"))
        try writer.run(["import", MarginProcess.seeds])
        let article = try writer.articleIds()[0]
        for index in 0..<20 { _ = try writer.annotate(article, range: "\(index):\(index + 5)", note: "note \(index)") }
        try sync(writer)
        let token = try server.issueToken("pages")
        let reader = try server.device(token: token)
        let store = try LibraryStore(path: reader.store)

        // One page of 10 is pulled and applied, then the device stops (no further pages).
        let reply = try server.post(
            "pull", body: PullRequest(cursor: 0, bound: nil, limit: 10).jsonBytes, token: token,
            deviceId: try store.deviceId())
        let page = try LibraryStore.check(PullResponse(jsonBytes: reply.body))
        #expect(page.page.more)
        let missing = try store.missingBodies(of: page.page.records)
        let bodies = try BodiesResponse(
            jsonBytes: try server.post(
                "bodies", body: BodiesRequest(hashes: missing).jsonBytes, token: token, deviceId: try store.deviceId()).body)
        try store.applyPullPage(page, bodies: bodies.bodies, snapshot: false)
        #expect(try store.pullState().cursor == page.page.cursor)

        let resumed = try reader.run(["sync", "--json"])

        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect((try resumed.json([String: Any].self))["pulled"] as? Int == 25 - 10)
        #expect(try reader.state().library == writer.state().library)
        // Up to date: one request, nothing moved.
        let idle = try reader.run(["sync", "--json"]).json([String: Any].self)
        #expect(idle["requests"] as? Int == 1)
        #expect(idle["pushed"] as? Int == 0)
        #expect(idle["pulled"] as? Int == 0)
    }

    /// Pulls of four records a page, so that `libraryToPull` takes seven.
    private static var smallPages: SyncOptions {
        var options = SyncOptions()
        options.pullPageCount = 4
        return options
    }

    /// A library of 5 articles and 20 annotations, synced from a first device, and a
    /// second device's store (in process) with its remote and token.
    private func libraryToPull(_ server: ServerProcess, user: String) throws -> (writer: MarginProcess, reader: MarginProcess, engine: (SyncOptions) throws -> SyncEngine) {
        let writer = try server.device(token: try server.addUser(user))
        try writer.run(["import", MarginProcess.seeds])
        let article = try writer.articleIds()[0]
        for index in 0..<20 { _ = try writer.annotate(article, range: "\(index):\(index + 5)", note: "note \(index)") }
        try sync(writer)
        let token = try server.issueToken(user)
        let reader = try server.device(token: token)
        let store = try LibraryStore(path: reader.store)
        let remote = try #require(try store.syncStatus().remote)
        return (writer, reader, { options in try SyncEngine(store: store, remote: remote, token: token, options: options) })
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func pagesFetchedAheadAreAppliedInOrderUntilUpToDate(_ backend: ServerProcess.Backend) throws {
        let server = try ServerProcess.start(backend)
        let (writer, reader, engine) = try libraryToPull(server, user: "ahead")

        let report = try engine(Self.smallPages).run()

        // 25 records in 7 pages (the last one short), and the bodies of the 5 articles,
        // which are in the first two pages: one request each.
        #expect(report.pulled == 25)
        #expect(report.bodiesFetched == 5)
        #expect(report.requests == 7 + 2)
        #expect(try reader.state().library == writer.state().library)
        let idle = try reader.run(["sync", "--json"]).json([String: Any].self)
        #expect(idle["requests"] as? Int == 1)
        #expect(idle["pulled"] as? Int == 0)
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func aFailureWhileFetchingAheadStopsTheSyncAndKeepsEveryPageApplied(_ backend: ServerProcess.Backend) throws {
        let server = try ServerProcess.start(backend)
        let (_, reader, engine) = try libraryToPull(server, user: "cut")
        var options = Self.smallPages
        options.timeout = .seconds(2)
        // The server dies as soon as the first page is applied.
        let pid = server.processIdentifier
        options.progress = { line in if line.hasPrefix("pulled") { kill(pid, SIGKILL) } }

        let error = #expect(throws: SyncError.self) { try engine(options).run() }

        #expect(error?.code == .network)
        // Versions 1…25 were given in order, so the cursor counts the records applied:
        // the first page, and the one fetched ahead before the server died, if any.
        let store = try LibraryStore(path: reader.store)
        let cursor = try store.pullState().cursor
        #expect(cursor == 4 || cursor == 8)
        let articles = try reader.articleIds().count
        let annotations = (try reader.run(["annotations", "--json"]).json([Any].self)).count
        #expect(Int64(articles + annotations) == cursor)
        #expect(try store.syncStatus().lastError?.hasPrefix("cannot reach") == true)
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func aTokenBelongsToTheFirstDeviceThatUsesIt(_ backend: ServerProcess.Backend) throws {
        let server = try ServerProcess.start(backend)
        let token = try server.addUser("ana")
        let first = try server.device(token: token)
        try sync(first)

        let second = try server.device(token: token)
        let refused = try second.run(["sync", "--quiet"])

        #expect(refused.status == 4)
        #expect(refused.stderr.contains("belongs to another device"), "\(refused.stderr)")
        try sync(first)
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func aRevokedTokenIsRefusedWithItsOwnExitStatus(_ backend: ServerProcess.Backend) throws {
        let server = try ServerProcess.start(backend)
        let device = try server.device(token: try server.addUser("gone"))
        try sync(device)
        try server.administer(["user", "revoke", "gone"])

        let refused = try device.run(["sync", "--quiet"])

        #expect(refused.status == 4)
        #expect(refused.stdout.isEmpty)
        #expect(refused.stderr.hasPrefix("margin: the server refused the token"))
        #expect(refused.stderr.filter { $0 == "\n" }.count == 1)
        let status = try device.run(["status", "--json"]).json([String: Any].self)
        #expect((status["lastError"] as? String)?.contains("refused the token") == true)
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func aUserCanNeitherReadNorChangeAnotherUsersLibrary(_ backend: ServerProcess.Backend) throws {
        let server = try ServerProcess.start(backend)
        let alice = try server.device(token: try server.addUser("alice"))
        try alice.run(["import", MarginProcess.seeds])
        let annotationId = try alice.annotate(try alice.articleIds()[0], range: "0:10", note: "private")
        try sync(alice)
        let bobToken = try server.addUser("bob")
        let bob = try server.device(token: bobToken)
        try sync(bob)
        #expect(try bob.articleIds().isEmpty)

        // Bob forges an edit of Alice's annotation: it is not in his library.
        let forged = PushRequest(
            changes: [WireChange(
                seq: 1, entity: .annotation, id: annotationId, op: .update, baseVersion: 1, hlc: 1,
                fields: [.note: .init(old: .text("private"), new: .text("stolen"))])],
            bodies: [])
        let reply = try server.post(
            "push", body: forged.jsonBytes, token: bobToken,
            deviceId: try LibraryStore(path: bob.store).deviceId())
        let response = try PushResponse(jsonBytes: reply.body)

        // To Bob the record does not exist (the answer is the same as for any unknown id).
        #expect(response.results.map(\.outcome) == [.missing])
        #expect(response.records.isEmpty)
        try sync(alice)
        #expect(try alice.annotation(annotationId)["note"] as? String == "private")
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func badRequestsGetAClearJSONErrorAndChangeNothing(_ backend: ServerProcess.Backend) throws {
        let server = try ServerProcess.start(backend)
        let token = try server.addUser("strict")
        let device = "01900000-0000-7000-8000-0000000000d1"
        let json = "Content-Type: application/json"
        let standard = [json, "Authorization: Bearer \(token)", "Margin-Protocol: \(SyncProtocol.version)", "Margin-Device: \(device)"]
        let cases: [(String, [UInt8], [String], Int, String)] = [
            ("pull", Array("{not json".utf8), standard, 400, "bad_request"),
            ("pull", Array(#"{"cursor": "zero"}"#.utf8), standard, 400, "bad_request"),
            ("pull", Array(#"{"cursor": 0, "extra": 1}"#.utf8), standard, 400, "bad_request"),
            ("pull", [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D], standard, 400, "bad_request"),
            ("push", Array(#"{"changes": [{"seq": 1, "entity": "annotation", "id": "x", "op": "update", "baseVersion": 0, "hlc": 0, "fields": {}}]}"#.utf8), standard, 400, "bad_request"),
            ("push", Array(#"{"changes": [{"seq": 5, "entity": "conflict", "id": "01900000-0000-7000-8000-000000000001", "op": "delete", "baseVersion": 0, "hlc": 0, "fields": {}}]}"#.utf8), standard, 409, "sequence_gap"),
            ("pull", Array(#"{"cursor": 0}"#.utf8), [json, "Authorization: Bearer \(token)", "Margin-Device: \(device)"], 400, "bad_request"),
            ("pull", Array(#"{"cursor": 0}"#.utf8), [json, "Authorization: Bearer \(token)", "Margin-Protocol: \(SyncProtocol.version + 1)", "Margin-Device: \(device)"], 426, "upgrade_required"),
            // Protocol 3 clients cannot follow articles whose text changes: they must upgrade.
            ("pull", Array(#"{"cursor": 0}"#.utf8), [json, "Authorization: Bearer \(token)", "Margin-Protocol: \(SyncProtocol.supportedVersions.lowerBound - 1)", "Margin-Device: \(device)"], 426, "upgrade_required"),
            ("pull", Array(#"{"cursor": 0}"#.utf8), [json, "Margin-Protocol: \(SyncProtocol.version)", "Margin-Device: \(device)"], 401, "unauthorized"),
            ("pull", Gzip.compress([UInt8](repeating: 0x20, count: 40_000_000)), standard + ["Content-Encoding: gzip"], 400, "bad_request"),
            ("pull", [UInt8](repeating: 0x20, count: 17 * 1024 * 1024), standard, 413, "too_large"),
            ("nothing", Array("{}".utf8), standard, 404, "not_found"),
        ]
        for (endpoint, body, headers, status, code) in cases {
            let reply = try server.post(endpoint, body: body, token: token, deviceId: device, headers: headers)
            #expect(reply.status == status, "\(endpoint) \(code)")
            let error = try? ErrorResponse(jsonBytes: reply.body)
            #expect(error?.error.code == code, "\(String(decoding: reply.body, as: UTF8.self))")
        }
        let users = try server.users()
        #expect(users.first?["records"] as? Int == 0)
        #expect(users.first?["devices"] as? Int == 0)
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func headlessSyncFailuresHaveDistinctExitStatuses(_ backend: ServerProcess.Backend) throws {
        let server = try ServerProcess.start(backend)
        let device = try server.device(token: try server.addUser("cron"))

        // Nothing listens on port 9 (discard) here: unreachable, exit 3, one line.
        try device.run(["remote", "set", "http://127.0.0.1:9", "--token-file", device.directory.appendingPathComponent("token").path])
        let unreachable = try device.run(["sync", "--quiet", "--timeout", "2"])
        #expect(unreachable.status == 3)
        #expect(unreachable.stderr.hasPrefix("margin: cannot reach http://127.0.0.1:9"))
        #expect(unreachable.stderr.filter { $0 == "\n" }.count == 1)

        // Another sync holds the lock: wait briefly, then exit 6.
        try device.run(["remote", "set", server.url, "--token-file", device.directory.appendingPathComponent("token").path])
        let lock = try SyncLock(storePath: device.store, wait: .zero)
        let overlapping = try device.run(["sync", "--quiet"])
        withExtendedLifetime(lock) {}
        #expect(overlapping.status == 6)
        #expect(overlapping.stderr.contains("sync already running"))

        // A token file others can read is refused before anything is sent.
        chmod(device.directory.appendingPathComponent("token").path, 0o644)
        let exposed = try device.run(["sync"])
        #expect(exposed.status == 1)
        #expect(exposed.stderr.contains("chmod 600"))
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func aDeviceBehindCompactedHistoryIsResetAndKeepsItsPendingChanges(_ backend: ServerProcess.Backend) throws {
        let server = try ServerProcess.start(backend)
        let first = try server.device(token: try server.addUser("reset"))
        let second = try server.device(token: try server.issueToken("reset"))
        try first.run(["import", MarginProcess.seeds])
        let articles = try first.articleIds()
        let doomed = try first.annotate(articles[0], range: "0:10", note: "to be deleted")
        let kept = try first.annotate(articles[1], range: "0:10", note: "to be edited")
        try sync(first, second)
        try first.run(["delete", doomed])
        try sync(first)
        try second.run(["edit", kept, "--note", "edited while behind"])

        // The tombstone is purged (as it would be once the retention window passed); the
        // second device then pulls from a cursor older than that history.
        #expect(try server.compact() > 0)
        let result = try second.run(["sync", "--json"])

        #expect(result.status == 0, "\(result.stderr)")
        let report = try result.json([String: Any].self)
        #expect(report["reset"] as? Bool == true)
        try sync(first)
        #expect(try first.state().library == second.state().library)
        #expect(try first.annotation(kept)["note"] as? String == "edited while behind")
        let remaining = try second.run(["annotations", "--json"]).json([[String: Any]].self)
        #expect(!remaining.contains { $0["id"] as? String == doomed })
    }

    /// From protocol 6 a pull from cursor 0 is a snapshot only when it asks: otherwise it
    /// brings every change, deletes included, without the device's own records (what a
    /// device whose first sync pushed its library needs). Older clients' pulls from 0 are
    /// snapshots, asked for or not.
    @Test(arguments: ServerProcess.Backend.allCases)
    func aPullFromZeroIsASnapshotOnlyWhenItAsks(_ backend: ServerProcess.Backend) throws {
        let server = try ServerProcess.start(backend)
        let token = try server.addUser("zero")
        let laptop = try server.device(token: token)
        try laptop.run(["import", MarginProcess.seeds])
        let first = try laptop.run(["sync", "--json"]).json([String: Any].self)
        #expect(first["pushed"] as? Int == 5)
        #expect(first["pulled"] as? Int == 0)
        let articles = try laptop.articleIds()
        try laptop.run(["delete", articles[0]])
        try laptop.syncQuietly()
        let laptopId = try #require((try laptop.run(["status", "--json"]).json([String: Any].self))["deviceId"] as? String)
        let otherToken = try server.issueToken("zero")
        let other = "01900000-0000-7000-8000-0000000000f6"
        func records(_ body: String, version: Int, token: String, device: String) throws -> [String: Bool] {
            let headers = [
                "Content-Type: application/json", "Authorization: Bearer \(token)", "Margin-Protocol: \(version)", "Margin-Device: \(device)",
            ]
            let reply = try server.post("pull", body: Array(body.utf8), token: token, deviceId: device, headers: headers)
            #expect(reply.status == 200, "\(String(decoding: reply.body, as: UTF8.self))")
            let page = try #require(try JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any])
            let records = try #require(page["records"] as? [[String: Any]])
            return Dictionary(uniqueKeysWithValues: records.map { ($0["id"] as? String ?? "", $0["deleted"] as? Bool ?? false) })
        }
        let live = Dictionary(uniqueKeysWithValues: articles.dropFirst().map { ($0, false) })

        // The device that wrote everything gets nothing back, unless it asks for a snapshot.
        #expect(try records(#"{"cursor": 0}"#, version: 6, token: token, device: laptopId).isEmpty)
        #expect(try records(#"{"cursor": 0, "snapshot": true}"#, version: 6, token: token, device: laptopId) == live)
        #expect(try records(#"{"cursor": 0}"#, version: 5, token: token, device: laptopId) == live)
        // Another device gets the delete too; in a snapshot, only what is live.
        var everything = live
        everything[articles[0]] = true
        #expect(try records(#"{"cursor": 0}"#, version: 6, token: otherToken, device: other) == everything)
        #expect(try records(#"{"cursor": 0, "snapshot": true}"#, version: 6, token: otherToken, device: other) == live)
        #expect(try records(#"{"cursor": 0}"#, version: 5, token: otherToken, device: other) == live)
    }
}
