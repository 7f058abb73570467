import ArgumentParser
import Foundation
import MarginCore
import MarginServer

struct DeviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device",
        abstract: "Lists a user's devices and revokes one device's token.",
        subcommands: [List.self, Revoke.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lists a user's devices, first seen first, then the tokens not used yet.",
            discussion: """
                Each line: the device id, when it was first seen (its token's first use) and last \
                seen (its last request, to the minute), when it last pushed and how many changes \
                it has pushed, and whether its token is revoked. '-' means never, or not recorded \
                (tokens bound before this server recorded first uses).
                """)
        @Argument(help: "The user's name.") var name: String
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let devices = try await database.withRepository { try await $0.devices(userName: name) }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(devices), as: UTF8.self))
                return
            }
            if devices.isEmpty { return print("\(name) has no tokens") }
            for device in devices {
                guard let id = device.deviceId else {
                    print("(token not used yet)\tissued \(Self.time(device.tokenCreatedAt))\t\(device.revokedAt == nil ? "active" : "revoked")")
                    continue
                }
                print([
                    id, "first seen \(Self.time(device.firstSeenAt))", "last seen \(Self.time(device.lastSeenAt))",
                    "last push \(Self.time(device.lastPushAt))", "changes \(device.changesPushed)",
                    device.revokedAt.map { "revoked \(Self.time($0))" } ?? "active",
                ].joined(separator: "\t"))
            }
        }

        static func time(_ milliseconds: Int64?) -> String {
            milliseconds.map { Timestamp(milliseconds: $0).iso8601 } ?? "-"
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revokes the token of one device (a lost or retired machine); the user's other devices go on syncing.",
            discussion: """
                The device's next sync is refused (margin exits 4). Its changes already synced stay \
                in the library. To let the machine sync again, issue it a new token with \
                'margin-server user token NAME'.
                """)
        @Argument(help: "The device's id, or a unique prefix of it (at least \(DeviceSummary.minimumPrefix) characters).")
        var device: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let id = try await database.withRepository { try await $0.revokeDevice(device.lowercased(), now: MarginServerCommand.now) }
            print("revoked the token of device \(id)")
        }
    }
}
