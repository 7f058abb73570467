import ArgumentParser
import Foundation
import MarginServer

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Manages users and their device tokens.",
        subcommands: [Add.self, Token.self, List.self, Revoke.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Adds a user and prints their first device token, once.")
        @Argument(help: "The user's name.") var name: String
        @OptionGroup var database: DatabaseOptions

        func validate() throws { try UserCommand.validateName(name) }

        func run() async throws {
            let token = DeviceToken.make()
            try await database.withRepository { try await $0.addUser(name: name, tokenHash: DeviceToken.hash(token), now: MarginServerCommand.now) }
            print(token)
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issues another device token to a user and prints it, once (one token per device).")
        @Argument(help: "The user's name.") var name: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let token = DeviceToken.make()
            try await database.withRepository {
                try await $0.addToken(userName: name, tokenHash: DeviceToken.hash(token), now: MarginServerCommand.now)
            }
            print(token)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lists users, their tokens, devices and records.")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let users = try await database.withRepository { try await $0.users() }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(users), as: UTF8.self))
                return
            }
            for user in users {
                print("\(user.name)\t\(user.revoked ? "revoked" : "active")\ttokens \(user.tokens)\tdevices \(user.devices)\trecords \(user.records)")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revokes a user and all their tokens; the library is kept.")
        @Argument(help: "The user's name.") var name: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await database.withRepository { try await $0.revokeUser(name: name, now: MarginServerCommand.now) }
            print("revoked \(name)")
        }
    }

    static func validateName(_ name: String) throws {
        guard (1...64).contains(name.count), name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.@".contains($0) }) else {
            throw ValidationError("a user name has 1 to 64 letters, digits, '-', '_', '.' or '@'")
        }
    }
}

