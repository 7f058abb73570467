import Foundation
import MarginCore
import MarginStore
import MarginSync
import MarginTestSupport
import MarginWire
import Testing

/// Hostile and malformed input (README, "How sync keeps its promises", bad input): the HTTP API fuzzed from its OpenAPI
/// document by schemathesis, hand-made hostile requests, and a client facing broken stores,
/// servers that answer wrongly, and files that are not text. Each gets a clear error, and
/// nothing changes.
@Suite struct HostileInputTests {
    static let device = "01900000-0000-7000-8000-0000000000d1"

    /// The schemathesis command: `MARGIN_SCHEMATHESIS`, else the one `.ci/setup` installs
    /// under `.build/`, else `schemathesis` on the PATH. Without one the test is cancelled
    /// (skipped) with the reason, except in CI, where it fails.
    static func schemathesis() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let path = (environment["PATH"] ?? "").split(separator: ":").map { "\($0)/schemathesis" }
        let candidates = [environment["MARGIN_SCHEMATHESIS"]].compactMap { $0 }
            + [MarginProcess.repositoryRoot.appendingPathComponent(".build/schemathesis/bin/schemathesis").path] + path
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        let reason = "schemathesis is not installed (bash .ci/setup installs it under .build/schemathesis)"
        if environment["CI"] != nil { throw FuzzFailure(description: reason) }
        try Test.cancel("\(reason)")
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func theAPIFuzzedFromItsOpenAPIDocumentNeverFailsAndAnswersAsDocumented(_ backend: ServerProcess.Backend) throws {
        let schemathesis = try Self.schemathesis()
        let folder = try MarginProcess()
        let metricsToken = folder.directory.appendingPathComponent("metrics-token")
        try "metrics-\(UUID().uuidString)".write(to: metricsToken, atomically: true, encoding: .utf8)
        // Schemathesis sends requests without a token on purpose: no lock-out for it.
        let server = try ServerProcess.start(
            backend, arguments: ["--failed-auth-limit", "1000000", "--metrics-token-file", metricsToken.path])
        let token = try server.addUser("schemathesis")
        let seed = Fuzz.seeds(count: 1)[0]

        let result = try MarginProcess.launch(
            schemathesis,
            [
                "--config-file", MarginProcess.repositoryRoot.appendingPathComponent("Tests/schemathesis.toml").path, "--no-color",
                "run", MarginProcess.repositoryRoot.appendingPathComponent("Schema/openapi.json").path, "--url", server.url,
                "-H", "Authorization: Bearer \(token)", "-H", "Margin-Protocol: \(SyncProtocol.version)", "-H", "Margin-Device: \(Self.device)",
                "--max-examples", "\(Fuzz.rounds(ci: 100))", "--seed", "\(seed)", "--workers", "2",
            ],
            environment: ["MARGIN_METRICS_TOKEN": try String(contentsOf: metricsToken, encoding: .utf8)],
            // Its cache of findings goes there, not into the working tree.
            in: folder.directory)

        let report = result.stdout.split(separator: "\n").suffix(80).joined(separator: "\n")
        #expect(result.status == 0, "schemathesis (seed \(seed), \(backend)) found problems:\n\(report)\n\(result.stderr)")
        #expect(result.stdout.contains("passed"), "\(report)")
        // The server is still up and serving.
        let alive = try server.post("pull", body: Array(#"{"cursor": 0}"#.utf8), token: token, deviceId: Self.device)
        #expect(alive.status == 200)
    }

    @Test(arguments: ServerProcess.Backend.allCases)
    func handMadeHostileRequestsGetClearErrorsAndChangeNothing(_ backend: ServerProcess.Backend) throws {
        let server = try ServerProcess.start(backend)
        let token = try server.addUser("target")
        let json = "Content-Type: application/json"
        let standard = [json, "Authorization: Bearer \(token)", "Margin-Protocol: \(SyncProtocol.version)", "Margin-Device: \(Self.device)"]
        func post(_ endpoint: String, _ body: String, headers: [String]? = nil) throws -> HTTPReply {
            try server.post(endpoint, body: Array(body.utf8), token: token, deviceId: Self.device, headers: headers ?? standard)
        }
        // A library of one article, pushed by the device the token is bound to.
        let document = try DocumentParser.parse(Array("A title\n\nSome text to read.".utf8), fileName: "a.txt")
        let article = Article(
            id: "01900000-0000-7000-8000-00000000a001", title: document.title, published: nil, source: "a.txt",
            contentHash: document.contentHash, captions: [], tags: [], createdAt: Timestamp(milliseconds: 1),
            updatedAt: Timestamp(milliseconds: 1))
        let batch = PushRequest(
            changes: [WireChange(
                seq: 1, entity: .article, id: article.id, op: .create, baseVersion: 0, hlc: 1 << 16,
                fields: article.fieldValues.mapValues { ChangeEntry.FieldChange(old: .null, new: $0) })],
            bodies: [WireBody(hash: document.contentHash, text: document.body)])
        let first = try server.post("push", body: batch.jsonBytes, token: token, deviceId: Self.device)
        try #require(first.status == 200, "\(String(decoding: first.body, as: UTF8.self))")
        let library = try post("pull", #"{"cursor": 0}"#).body

        let nested = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let cases: [(String, String, [String]?, Int, String)] = [
            ("pull", nested, nil, 400, "bad_request"),
            ("pull", #"{"cursor": \#(String(repeating: "9", count: 400))}"#, nil, 400, "bad_request"),
            ("pull", #"{"cursor": 1e400}"#, nil, 400, "bad_request"),
            ("pull", #"{"cursor": -1}"#, nil, 400, "bad_request"),
            ("pull", #"{"cursor": 0, "limit": 0}"#, nil, 400, "bad_request"),
            ("pull", #"{"cursor": 0, "limit": 5001}"#, nil, 400, "bad_request"),
            ("pull", #"{"cursor": 0, "bound": null}"#, nil, 400, "bad_request"),
            ("pull", "{\"cursor\": 0, \"x\u{0}\": 1}", nil, 400, "bad_request"),
            // Readers differ on which of two same-named members wins; the server reads neither.
            ("pull", #"{"cursor": 0, "cursor": 5}"#, nil, 400, "bad_request"),
            ("push", #"{"changes": [{"seq": 1, "entity": "article", "id": "\#(article.id)", "op": "update", "baseVersion": 1, "hlc": 0, "fields": {"title": {"old": "a", "new": "b"}, "title": {"old": "a", "new": "c"}}}]}"#, nil, 400, "bad_request"),
            ("bodies", #"{"hashes": ["\#(String(repeating: "a", count: 64))"]}"#, nil, 200, ""),
            // Found by schemathesis: a NUL byte reached PostgreSQL, which refused it with a 500.
            ("bodies", #"{"hashes": ["a\u0000"]}"#, nil, 400, "bad_request"),
            ("push", #"{"changes": [{"seq": 0, "entity": "article", "id": "\#(article.id)", "op": "delete", "baseVersion": 0, "hlc": 0, "fields": {}}]}"#, nil, 400, "bad_request"),
            ("push", #"{"changes": [{"seq": 9223372036854775807, "entity": "article", "id": "\#(article.id)", "op": "delete", "baseVersion": 0, "hlc": 0, "fields": {}}]}"#, nil, 409, "sequence_gap"),
            ("push", #"{"changes": [{"seq": 2, "entity": "article", "id": "\#(article.id)", "op": "delete", "baseVersion": -5, "hlc": 0, "fields": {}}]}"#, nil, 400, "bad_request"),
            // Another device's id with this token, and an id that is not one.
            ("pull", #"{"cursor": 0}"#, [json, "Authorization: Bearer \(token)", "Margin-Protocol: \(SyncProtocol.version)", "Margin-Device: 01900000-0000-7000-8000-0000000000d2"], 403, "forbidden"),
            ("pull", #"{"cursor": 0}"#, [json, "Authorization: Bearer \(token)", "Margin-Protocol: \(SyncProtocol.version)", "Margin-Device: ../../etc"], 400, "bad_request"),
            ("pull", #"{"cursor": 0}"#, [json, "Authorization: Bearer mgn_\(String(repeating: "0", count: 64))", "Margin-Protocol: \(SyncProtocol.version)", "Margin-Device: \(Self.device)"], 401, "unauthorized"),
        ]
        for (endpoint, body, headers, status, code) in cases {
            let reply = try post(endpoint, body, headers: headers)
            #expect(reply.status == status, "\(endpoint) \(body.prefix(120)): \(String(decoding: reply.body.prefix(300), as: UTF8.self))")
            if status != 200 {
                #expect((try? ErrorResponse(jsonBytes: reply.body))?.error.code == code, "\(body.prefix(120))")
            } else {
                #expect(try BodiesResponse(jsonBytes: reply.body).bodies.isEmpty)
            }
        }
        // Found by schemathesis: a history is at most 64 characters, as the protocol counts
        // them (code points), not 64 bytes.
        let history = String(repeating: "ư", count: 64)
        let longest = try post("pull", #"{"cursor": 1, "history": "\#(history)"}"#)
        #expect(longest.status == 200, "\(String(decoding: longest.body, as: UTF8.self))")
        #expect(try post("pull", #"{"cursor": 1, "history": "\#(history)ư"}"#).status == 400)

        // Changes that break the rulebook are refused one by one, with the reason, and change
        // nothing; the rest of the push applies.
        let body = "Tiêu đề\n\nNội dung\u{0}"
        let refused = try PushResponse(jsonBytes: try post("push", #"""
            {"changes": [
              {"seq": 2, "entity": "article", "id": "\#(article.id)", "op": "update", "baseVersion": 1, "hlc": 0, "fields": {"title": {"old": "A title", "new": "A\u0000title"}}},
              {"seq": 3, "entity": "article", "id": "\#(article.id)", "op": "update", "baseVersion": 1, "hlc": 0, "fields": {"contentHash": {"old": "a", "new": "b"}}},
              {"seq": 4, "entity": "article", "id": "01900000-0000-7000-8000-00000000a002", "op": "create", "baseVersion": 0, "hlc": 0, "fields": {"title": {"old": null, "new": "T"}, "published": {"old": null, "new": null}, "source": {"old": null, "new": null}, "contentHash": {"old": null, "new": "\#(ContentHash.of(body))"}, "captions": {"old": null, "new": []}, "tags": {"old": null, "new": []}, "createdAt": {"old": null, "new": 1}}},
              {"seq": 5, "entity": "article", "id": "\#(article.id)", "op": "update", "baseVersion": 1, "hlc": 0, "fields": {"title": {"old": "\#(article.title)", "new": "\#(String(repeating: "x", count: 4_097))"}}}
            ], "bodies": [{"hash": "\#(ContentHash.of(body))", "text": "Tiêu đề\n\nNội dung\u0000"}]}
            """#).body)
        #expect(refused.results.map(\.outcome) == [.rejected, .rejected, .rejected, .rejected])
        #expect(refused.results.map(\.reason) == [
            "field 'title' must be free of NUL (U+0000) characters", "field 'contentHash' must be 64 lowercase hexadecimal digits (SHA-256)",
            "the article body cannot contain NUL (U+0000) characters", "field 'title' has 4097 characters; at most 4096 are allowed",
        ])
        #expect(refused.records.map(\.id) == [article.id])
        #expect(refused.records.first?.fields[.title] == .text(article.title))

        // A replayed batch is answered as already applied and changes nothing.
        let replay = try PushResponse(jsonBytes: try server.post("push", body: batch.jsonBytes, token: token, deviceId: Self.device).body)
        #expect(replay.results.map(\.outcome) == [.alreadyApplied])
        #expect(try post("pull", #"{"cursor": 0}"#).body == library)
        // A cursor from the future (another server, or a restored backup) starts over.
        let future = try PullResponse(jsonBytes: try post("pull", #"{"cursor": 1000000}"#).body)
        #expect(future.reset)
        let users = try server.users()
        #expect(users.first?["records"] as? Int == 1)
    }

    @Test func aTruncatedOrCorruptedStoreFailsWithOneLineAndIsLeftAsItWas() throws {
        // Where the damage is: cut in half, the schema page overwritten, or a page in the
        // middle overwritten (which only the commands that read it can notice).
        for damage in ["truncated", "schema page", "middle page"] {
            let margin = try MarginProcess()
            try margin.run(["import", MarginProcess.seeds])
            let url = URL(fileURLWithPath: margin.store)
            var bytes = try Data(contentsOf: url)
            var random = SeededGenerator(seed: 7)
            switch damage {
            case "truncated": bytes = bytes.prefix(bytes.count / 2 + 100)
            case "schema page": for index in 100..<4_000 { bytes[index] = UInt8(truncatingIfNeeded: random.next()) }
            default: for index in (bytes.count / 2)..<(bytes.count / 2 + 8_192) { bytes[index] = UInt8(truncatingIfNeeded: random.next()) }
            }
            try bytes.write(to: url)

            var failures = 0
            for command in [["list"], ["search", "Nga"], ["export"], ["annotations"], ["status"]] {
                let result = try margin.run(command)
                #expect(result.status == 0 || result.status == 1, "\(damage) \(command): exit \(result.status)")
                if result.status == 1 {
                    failures += 1
                    #expect(result.stderr.hasPrefix("margin: ") && result.stderr.filter { $0 == "\n" }.count == 1, "\(damage): \(result.stderr)")
                    #expect(result.stderr.contains(margin.store), "\(damage): \(result.stderr)")
                }
            }
            #expect(damage == "middle page" || failures == 5, "\(damage): \(failures) of 5 commands noticed")
            #expect(try Data(contentsOf: url) == bytes, "\(damage)")
        }
    }

    @Test(arguments: [
        ("426 Upgrade Required", #"{"error":{"code":"upgrade_required","message":"this server speaks sync protocol 2"}}"#, Int32(7), "upgrade margin"),
        ("200 OK", "<html><body>Welcome to the hotel network</body></html>", Int32(5), "is not the sync protocol"),
        ("200 OK", #"{"results":[{"seq":999,"outcome":"applied","version":5}],"records":[]}"#, Int32(5), "does not match the changes pushed"),
        ("500 Internal Server Error", "oops", Int32(5), "the server failed (500)"),
    ])
    func aServerThatAnswersWronglyIsReportedAndNothingChanges(_ reply: (status: String, body: String, exit: Int32, message: String)) throws {
        let proxy = try FaultProxy(answering: FaultProxy.reply(status: reply.status, body: Array(reply.body.utf8)))
        defer { proxy.stop() }
        let margin = try MarginProcess()
        try margin.run(["import", MarginProcess.seeds])
        let token = margin.directory.appendingPathComponent("token").path
        _ = FileManager.default.createFile(atPath: token, contents: Data("mgn_0".utf8), attributes: [.posixPermissions: 0o600])
        try margin.run(["remote", "set", proxy.url, "--token-file", token])
        let before = try margin.run(["export", "--format", "json"]).json([String: Any].self)
        let store = try LibraryStore(path: margin.store)
        let pending = try store.syncStatus().pendingChanges

        let result = try margin.run(["sync", "--quiet", "--timeout", "2"])

        #expect(result.status == reply.exit, "\(result.stderr)")
        #expect(result.stderr.contains(reply.message) && result.stderr.filter { $0 == "\n" }.count == 1, "\(result.stderr)")
        var after = try margin.run(["export", "--format", "json"]).json([String: Any].self)
        after["exportedAt"] = before["exportedAt"]
        #expect(NSDictionary(dictionary: after) == NSDictionary(dictionary: before))
        #expect(try store.syncStatus().pendingChanges == pending)
        #expect(try store.pullState().cursor == 0)
    }

    @Test func anExportWithANULCharacterIsRefusedWhole() throws {
        let margin = try MarginProcess()
        try margin.run(["import", MarginProcess.seeds])
        let export = margin.directory.appendingPathComponent("library.json")
        let other = try MarginProcess()
        let article = try #require((try margin.run(["list", "--json"]).json([[String: Any]].self)).first?["id"] as? String)
        try margin.run(["annotate", article, "--range", "0:5", "--note", "marker-note"])
        let text = try margin.run(["export", "--format", "json"]).stdout.replacingOccurrences(of: "marker-note", with: "marker\\u0000note")
        try text.write(to: export, atomically: true, encoding: .utf8)

        let result = try other.run(["import", export.path])

        #expect(result.status == 1)
        #expect(result.stderr.contains("NUL"), "\(result.stderr)")
        #expect((try other.run(["list", "--json"]).json([Any].self)).isEmpty)
    }

    @Test func filesThatAreNotTextAreRefusedByNameAndImportNothing() throws {
        let margin = try MarginProcess()
        var random = SeededGenerator(seed: 3)
        let files: [(String, [UInt8])] = [
            ("photo.png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<512).map { _ in UInt8(truncatingIfNeeded: random.next()) }),
            ("notes.txt", Array("Some text\0with a NUL byte".utf8)),
            ("empty.txt", []),
            ("archive.tar.gz", [0x1F, 0x8B, 0x08, 0x00]),
        ]
        for (name, bytes) in files {
            let path = margin.directory.appendingPathComponent(name)
            try Data(bytes).write(to: path)

            let result = try margin.run(["import", path.path])

            #expect(result.status == 1, "\(name)")
            #expect(result.stderr.hasPrefix("margin: \(path.path): ") && result.stderr.filter { $0 == "\n" }.count == 1, "\(result.stderr)")
        }
        #expect((try margin.run(["list", "--json"]).json([Any].self)).isEmpty)
    }
}
