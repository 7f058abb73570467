import Foundation
import MarginCore
import MarginTestSupport
import Testing

/// `margin history` and `margin undo` across devices, through the real binaries: pulled
/// changes name the device that made them, and an undo syncs like any change.
@Suite struct HistoryTests {
    @Test(arguments: ServerProcess.Backend.allCases)
    func aRecordsHistoryNamesEachDeviceAndAnUndoSyncs(_ backend: ServerProcess.Backend) throws {
        let server = try ServerProcess.start(backend)
        // The desktop's whole library arrives in one pull: no history of its own.
        let (laptop, desktop) = try server.twoDevicesWithTheSeeds(of: "ada")
        let article = try laptop.articleIds()[0]
        #expect((try desktop.run(["history", article, "--json"]).json() as? [Any])?.isEmpty == true)
        #expect(try desktop.run(["history", article]).stdout == "\(article): no change since it arrived with this library's first sync\n")
        let laptopId = try deviceId(laptop)
        let desktopId = try deviceId(desktop)

        let note = try laptop.annotate(article, range: "0:20", note: "from the laptop")
        try laptop.syncQuietly()
        try desktop.syncQuietly()
        try desktop.run(["edit", note, "--note", "from the desktop"])
        try desktop.syncQuietly()
        try laptop.syncQuietly()

        let history = try laptop.run(["history", note, "--json"]).json([[String: Any]].self)
        #expect(history.map { "\($0["origin"]!) \($0["op"]!) \($0["device"]!)" } == [
            "local create \(laptopId)", "pulled update \(desktopId)",
        ])
        let noteChange = try #require((history[1]["fields"] as? [String: Any])?["note"] as? [String: Any])
        #expect(noteChange["old"] as? String == "from the laptop" && noteChange["new"] as? String == "from the desktop")
        #expect(history[0]["seq"] is Int && history[1]["seq"] == nil)
        let pulledCreate = try desktop.run(["history", note, "--json"]).json([[String: Any]].self)
        #expect(pulledCreate.map { "\($0["origin"]!) \($0["op"]!) \($0["device"]!)" } == [
            "pulled create \(laptopId)", "local update \(desktopId)",
        ])
        let text = try laptop.run(["history", note]).stdout
        #expect(text.contains("this device") && text.contains("…\(desktopId.suffix(12))"), "\(text)")
        #expect(text.contains("note: \"from the laptop\" → \"from the desktop\""), "\(text)")

        // The laptop's last change is the create, which the desktop's edit came after: refused.
        let refused = try laptop.run(["undo"])
        #expect(refused.status == 1 && refused.stderr.contains("the note of annotation \(note) changed since"), "\(refused)")
        // The desktop takes its edit back; the laptop gets the note back at its next sync.
        let undone = try desktop.run(["undo"])
        #expect(undone.status == 0 && undone.stdout.hasPrefix("undid #"), "\(undone)")
        try desktop.syncQuietly()
        try laptop.syncQuietly()
        #expect(try laptop.annotation(note)["note"] as? String == "from the laptop")

        // Both edit offline; the desktop syncs first. The laptop's push comes back merged
        // with the desktop's color: its history says so.
        try laptop.run(["edit", note, "--note", "edited on the laptop"])
        try desktop.run(["edit", note, "--color", "green"])
        try desktop.syncQuietly()
        try laptop.syncQuietly()
        let merged = try #require((try laptop.run(["history", note, "--json"]).json([[String: Any]].self)).last)
        #expect(merged["origin"] as? String == "merged" && merged["device"] is NSNull)
        #expect((merged["fields"] as? [String: Any]).map { Array($0.keys) } == ["color"])
        #expect(try laptop.run(["history", note]).stdout.contains("the server      merged"))

        // A record deleted elsewhere keeps its history, named by its full id.
        try desktop.syncQuietly()
        try desktop.run(["delete", note])
        try desktop.syncQuietly()
        try laptop.syncQuietly()
        let afterDelete = try laptop.run(["history", note, "--json"]).json([[String: Any]].self)
        #expect(afterDelete.map { "\($0["origin"]!) \($0["op"]!)" } == [
            "local create", "pulled update", "pulled update", "local update", "merged update", "pulled delete",
        ])
        let byHandle = try laptop.run(["history", String(Handle.of(note).prefix(7))])
        #expect(byHandle.status == 1 && byHandle.stderr.contains("no article or annotation"), "\(byHandle)")
    }

    /// Protocol 5 pulls name each record's device; a protocol-4 client still syncs, and its
    /// pulls leave the field out (it could not read it).
    @Test func pulledRecordsNameTheirDeviceFromProtocolFiveOn() throws {
        let server = try ServerProcess.start(.sqlite)
        let laptop = try server.device(token: try server.addUser("ada"))
        try laptop.run(["import", MarginProcess.seeds])
        try laptop.syncQuietly()
        let token = try server.issueToken("ada")
        let device = "01900000-0000-7000-8000-0000000000f5"
        func records(_ version: Int) throws -> [[String: Any]] {
            let headers = [
                "Content-Type: application/json", "Authorization: Bearer \(token)", "Margin-Protocol: \(version)", "Margin-Device: \(device)",
            ]
            let reply = try server.post("pull", body: Array(#"{"cursor": 0}"#.utf8), token: token, deviceId: device, headers: headers)
            #expect(reply.status == 200)
            return try #require((try JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any])?["records"] as? [[String: Any]])
        }

        let current = try records(5)
        let older = try records(4)

        #expect(current.count == 5 && current.allSatisfy { $0["device"] as? String == (try? deviceId(laptop)) })
        #expect(older.count == 5 && older.allSatisfy { $0["device"] == nil })
    }

    private func deviceId(_ device: MarginProcess) throws -> String {
        try #require((try device.run(["status", "--json"]).json([String: Any].self))["deviceId"] as? String)
    }
}
