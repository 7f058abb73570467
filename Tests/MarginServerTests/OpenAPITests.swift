import Foundation
import MarginCore
import MarginSchema
import MarginWire
import Testing

@testable import MarginServer

/// Schema/openapi.json is the protocol's single source of truth: the server's routes and
/// the messages it exchanges must match it.
@Suite struct OpenAPITests {
    static var document: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(EmbeddedSchema.openAPI.utf8))) as? [String: Any] ?? [:]
    }

    static func schema(_ name: String) -> [String: Any] {
        let components = document["components"] as? [String: Any]
        return (components?["schemas"] as? [String: Any])?[name] as? [String: Any] ?? [:]
    }

    static func properties(_ name: String) -> Set<String> {
        Set((schema(name)["properties"] as? [String: Any] ?? [:]).keys)
    }

    @Test func everyRouteTheServerExposesIsDocumentedAndNoOther() async throws {
        let router = try await withTemporaryStore { repository, _ in
            buildRouter(ServerConfiguration(), repository: repository, metrics: ServerMetrics())
        }

        let served = Set(router.routes.map { "\($0.method.rawValue.uppercased()) \($0.path)" })
        let paths = try #require(Self.document["paths"] as? [String: [String: Any]])
        let documented = Set(paths.flatMap { path, operations in operations.keys.map { "\($0.uppercased()) \(path)" } })

        #expect(served == documented)
    }

    @Test func theProtocolVersionItNamesIsTheOneTheServerSpeaks() throws {
        let info = try #require(Self.document["info"] as? [String: Any])
        let parameters = (Self.document["components"] as? [String: Any])?["parameters"] as? [String: [String: Any]] ?? [:]
        let header = try #require(parameters.values.first { $0["name"] as? String == SyncProtocol.versionHeader })
        #expect(info["version"] as? String == "\(SyncProtocol.version)")
        #expect((header["schema"] as? [String: Any])?["enum"] as? [String] == SyncProtocol.supportedVersions.map(String.init))
        #expect((info["description"] as? String)?.contains("\(SyncProtocol.versionHeader): \(SyncProtocol.version) ") == true)
    }

    @Test func theSchemaFileOnDiskIsTheOneCompiledIn() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let onDisk = try String(contentsOf: root.appendingPathComponent("Schema/openapi.json"), encoding: .utf8)
        #expect(onDisk == EmbeddedSchema.openAPI)
    }

    @Test func messagesUseExactlyTheDocumentedFields() throws {
        let change = WireChange(
            seq: 1, entity: .annotation, id: "01900000-0000-7000-8000-000000000001", op: .update, baseVersion: 0, hlc: 0,
            fields: [.note: .init(old: .text("a"), new: .text("b"))])
        let samples: [(String, any WireMessage)] = [
            ("Change", change),
            ("PushRequest", PushRequest(changes: [change], bodies: [WireBody(hash: "h", text: "t")], after: 3)),
            ("Body", WireBody(hash: "h", text: "t")),
            ("ChangeResult", ChangeResult(seq: 1, outcome: .merged, version: 2, canonicalId: "c", reason: "r")),
            ("Record", ServerRecord(entity: .article, id: "i", version: 1, deleted: false, fields: [:], updatedAt: 0, device: "d")),
            ("PushResponse", PushResponse(results: [], records: [])),
            ("PullRequest", PullRequest(cursor: 0, bound: 1, limit: 2, snapshot: true, history: "h", pushedSeq: 3)),
            ("PullResponse", PullResponse(
                records: [], cursor: 0, bound: 0, more: false, reset: true, history: "h",
                restore: RestorePoint(since: 1, lastApplied: 2))),
            ("BodiesRequest", BodiesRequest(hashes: [])),
            ("BodiesResponse", BodiesResponse(bodies: [])),
            ("Error", ErrorResponse(code: "c", message: "m")),
        ]
        for (name, sample) in samples {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(sample.jsonBytes)) as? [String: Any], "\(name)")
            #expect(Set(object.keys) == Self.properties(name), "\(name)")
            let required = Set(Self.schema(name)["required"] as? [String] ?? [])
            #expect(required.isSubset(of: object.keys), "\(name)")
        }
    }

    @Test func theRulebookItStatesIsTheOneBothSidesApply() throws {
        let rules = try #require(Self.document["x-record-rules"] as? [String: Any])
        let fields = try #require(rules["fields"] as? [String: [String]])
        let mutable = try #require(rules["mutable"] as? [String: [String]])
        let optional = try #require(rules["optional"] as? [String: [String]])
        for entity in RecordEntity.allCases {
            #expect(Set(fields[entity.rawValue] ?? []) == Set(entity.fields.map(\.rawValue)), "\(entity)")
            #expect(Set(optional[entity.rawValue] ?? []) == Set(entity.optionalFields.map(\.rawValue)), "\(entity)")
            #expect(Set(mutable[entity.rawValue] ?? []) == Set(entity.mutableFields.map(\.rawValue)), "\(entity)")
        }
        let limits = try #require(rules["limits"] as? [[String: Any]])
        #expect(limits.map { $0["name"] as? String } == RecordRules.limits.map(\.name))
        #expect(limits.map { $0["maximum"] as? Int } == RecordRules.limits.map(\.maximum))
        #expect(limits.map { $0["unit"] as? String } == RecordRules.limits.map(\.unit.rawValue))
    }

    @Test func strictRequestsRefuseUnknownFields() {
        let body = Array(#"{"cursor": 0, "limitt": 5}"#.utf8)
        #expect(throws: MarginError.self) { try PullRequest(jsonBytes: body) }
        #expect(Self.schema("PullRequest")["additionalProperties"] as? Bool == false)
    }
}
