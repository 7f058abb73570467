import ArgumentParser
import Foundation

struct HealthcheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "healthcheck",
        abstract: "Asks a running server whether it is ready; exits 0 if it is, 1 if not.",
        discussion: """
            For container health checks without curl: GET --url (a server's /readyz, or /healthz) over \
            plain HTTP, and exit 0 on 200. Otherwise one line on stderr says what answered, or why \
            nothing did.
            """)

    @Option(
        help: "The address to ask: http://HOST:PORT/PATH. (default: http://127.0.0.1:8080/readyz)", transform: HTTPAddress.init(parsing:))
    var url = HTTPAddress(host: "127.0.0.1", port: 8080, path: "/readyz")

    @Option(help: "Seconds to wait for the answer.")
    var timeout = 5

    func validate() throws {
        guard (1...300).contains(timeout) else { throw ValidationError("--timeout must be 1 to 300 seconds") }
    }

    func run() throws {
        let answer: (status: Int, body: String)
        do {
            answer = try Self.get(host: url.host, port: url.port, path: url.path, timeout: timeout)
        } catch {
            FileHandle.standardError.write(Data("error: \(url): \(error.message)\n".utf8))
            throw ExitCode.failure
        }
        guard answer.status == 200 else {
            FileHandle.standardError.write(Data("error: \(url) answered \(answer.status): \(Self.message(in: answer.body))\n".utf8))
            throw ExitCode.failure
        }
        print("ready")
    }

    /// The error message of a server's JSON error, else the start of the body.
    static func message(in body: String) -> String {
        if let data = body.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let error = object["error"] as? [String: Any], let message = error["message"] as? String {
            return message
        }
        return String(body.prefix(200))
    }

    struct Failure: Error {
        var message: String
    }

    /// One `GET path` to host:port over a socket, with the status and body of the answer.
    static func get(host: String, port: Int, path: String, timeout: Int) throws(Failure) -> (status: Int, body: String) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &found) == 0, let first = found else {
            throw Failure(message: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(found) }
        let socket = Glibc.socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard socket >= 0 else { throw Failure(message: "cannot open a socket") }
        defer { close(socket) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard connect(socket, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            throw Failure(message: "cannot connect to \(host):\(port) (\(String(cString: strerror(errno))))")
        }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: margin-server healthcheck\r\nConnection: close\r\n\r\n".utf8)
        guard send(socket, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else {
            throw Failure(message: "cannot send the request (\(String(cString: strerror(errno))))")
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while received.count < 1 << 20 {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count < 0 { throw Failure(message: "no answer in \(timeout) s (\(String(cString: strerror(errno))))") }
            if count == 0 { break }
            received += buffer[0..<count]
        }
        let text = String(decoding: received, as: UTF8.self)
        let statusLine = text.prefix { $0 != "\r" && $0 != "\n" }.split(separator: " ")
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/"), let status = Int(statusLine[1]) else {
            throw Failure(message: "the answer is not HTTP")
        }
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return (status, body)
    }
}

/// `--url http://HOST:PORT/PATH`: plain HTTP, as a server on the same machine or in the same
/// container answers it.
struct HTTPAddress: Sendable, CustomStringConvertible {
    var host: String
    var port: Int
    var path: String

    var description: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port)\(path)" }

    init(host: String, port: Int, path: String) {
        self.host = host
        self.port = port
        self.path = path
    }

    init(parsing url: String) throws {
        let usage = ValidationError("write http://HOST:PORT/PATH (plain HTTP)")
        guard url.hasPrefix("http://") else { throw usage }
        let rest = url.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        var host = authority
        var port = 80
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let number = Int(authority[authority.index(after: colon)...]), (1...65_535).contains(number) else { throw usage }
            host = authority[..<colon]
            port = number
        }
        guard !host.isEmpty else { throw usage }
        self.init(host: String(host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))), port: port, path: path.isEmpty ? "/" : String(path))
    }
}
