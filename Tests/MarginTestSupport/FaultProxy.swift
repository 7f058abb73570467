import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy on 127.0.0.1 that passes connections to a server and, on a share of them,
/// injects a network fault: refuses the connection, delays the reply, cuts the request
/// or the response part way, or answers with garbage of its own.
///
/// The fault of each connection is drawn from a seeded generator when it is accepted, so
/// a run's sequence of faults follows from its seed. Each connection is served by two
/// threads (one per direction). The proxy runs until `stop()`, which closes everything.
///
/// For example:
/// ```swift
/// let proxy = try FaultProxy(upstreamPort: serverPort, seed: 42, faultPercent: 30)
/// defer { proxy.stop() }
/// // point a client at proxy.url; later:
/// proxy.faultPercent = 0
/// ```
public final class FaultProxy: @unchecked Sendable {
    // Safe: the mutable state (`state`) is only touched under `lock`; the listening socket
    // is set in `init` and closed once by `stop()`.

    /// What the proxy does to one connection.
    public enum Fault: String, Sendable, CaseIterable {
        /// Passed through untouched.
        case none
        /// Accepted, then reset at once.
        case refuse
        /// Passed through, but the server's reply waits 0.2–2 s.
        case delay
        /// The client's bytes are passed up to a point (which may fall in a later request
        /// of the kept-alive connection), then both sides are closed.
        case cutRequest
        /// The server's bytes are passed up to a point, then both sides are closed.
        case cutResponse
        /// The request is read and answered by the proxy with garbage: random bytes, or a
        /// `200 OK` whose body is random bytes or JSON of the wrong shape.
        case garbage
    }

    private struct State {
        /// What every connection gets instead of the server, when set.
        var cannedReply: [UInt8]?
        var random: SeededGenerator
        var faultPercent: Int
        var counts: [Fault: Int] = [:]
        var connections: Set<Int32> = []
        var stopped = false
    }

    public let url: String
    private let upstreamPort: UInt16
    private let listener: Int32
    private let lock = NSLock()
    private var state: State

    /// A proxy to `127.0.0.1:upstreamPort` that injects a fault on `faultPercent` percent
    /// of connections, the fault and its details drawn from `seed`.
    public init(upstreamPort: Int, seed: UInt64, faultPercent: Int) throws {
        self.upstreamPort = UInt16(upstreamPort)
        state = State(random: SeededGenerator(seed: seed), faultPercent: faultPercent)
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw ServerProcessError(description: "socket: \(String(cString: strerror(errno)))") }
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 64) == 0 && getsockname(listener, pointer, &length) == 0
            }
        }
        guard listening else {
            close(listener)
            throw ServerProcessError(description: "cannot listen on 127.0.0.1: \(String(cString: strerror(errno)))")
        }
        self.listener = listener
        url = "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// The share of new connections that get a fault, in percent (0 passes everything).
    public var faultPercent: Int {
        get { lock.withLock { state.faultPercent } }
        set { lock.withLock { state.faultPercent = newValue } }
    }

    /// How many connections got each fault so far.
    public var counts: [Fault: Int] {
        lock.withLock { state.counts }
    }

    /// A stand-in for a server that answers every request with `reply` (raw HTTP), such as
    /// a server of another protocol version or something that is not a margin-server.
    public convenience init(answering reply: [UInt8]) throws {
        try self.init(upstreamPort: 9, seed: 0, faultPercent: 0)
        lock.withLock { state.cannedReply = reply }
    }

    /// Stops accepting and closes every open connection.
    public func stop() {
        let open: Set<Int32>? = lock.withLock {
            guard !state.stopped else { return nil }
            state.stopped = true
            return state.connections
        }
        guard let open else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for socket in open { shutdown(socket, Int32(SHUT_RDWR)) }
    }

    // MARK: - Connections

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            if let reply = lock.withLock({ state.cannedReply }) {
                Thread.detachNewThread { [self] in
                    answer(client, with: reply)
                    close(client)
                }
                continue
            }
            let (fault, limit, delay) = lock.withLock { () -> (Fault, Int, Double) in
                let fault = state.random.chance(state.faultPercent)
                    ? Fault.allCases.filter { $0 != .none }.randomElement(using: &state.random)!
                    : .none
                state.counts[fault, default: 0] += 1
                return (fault, Int(state.random.next() % 3_000) + 1, 0.2 + Double(state.random.next() % 1_800) / 1_000)
            }
            Thread.detachNewThread { [self] in serve(client, fault: fault, limit: limit, delay: delay) }
        }
    }

    private func serve(_ client: Int32, fault: Fault, limit: Int, delay: Double) {
        defer { close(client) }
        guard track(client) else { return }
        defer { untrack(client) }
        switch fault {
        case .refuse:
            // A zero linger time makes close() send a reset, as a refusing host would.
            var linger = linger(l_onoff: 1, l_linger: 0)
            setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
            return
        case .garbage:
            answerWithGarbage(client, seed: UInt64(limit))
            return
        default:
            break
        }
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard upstream >= 0 else { return }
        defer { close(upstream) }
        var address = Self.loopback(port: upstreamPort)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0, track(upstream) else { return }
        defer { untrack(upstream) }
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            Self.pump(from: client, to: upstream, limit: fault == .cutRequest ? limit : nil, delay: nil)
            done.signal()
        }
        Self.pump(from: upstream, to: client, limit: fault == .cutResponse ? limit : nil, delay: fault == .delay ? delay : nil)
        done.wait()
    }

    /// Copies bytes until either side closes, or until `limit` bytes have passed; then
    /// shuts both sockets down so that the other direction ends too.
    private static func pump(from source: Int32, to destination: Int32, limit: Int?, delay: Double?) {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var passed = 0
        var delay = delay
        while true {
            let count = read(source, &buffer, buffer.count)
            if count <= 0 { break }
            if let pause = delay {
                Thread.sleep(forTimeInterval: pause)
                delay = nil
            }
            let allowed = limit.map { min(count, $0 - passed) } ?? count
            if allowed > 0, !writeAll(destination, buffer[..<allowed]) { break }
            passed += allowed
            if let limit, passed >= limit { break }
        }
        shutdown(source, Int32(SHUT_RDWR))
        shutdown(destination, Int32(SHUT_RDWR))
    }

    private func answerWithGarbage(_ client: Int32, seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        let noise = (0..<Int(random.next() % 400 + 1)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        switch random.next() % 3 {
        case 0: answer(client, with: noise)
        case 1: answer(client, with: Self.reply(status: "200 OK", body: noise))
        default: answer(client, with: Self.reply(status: "200 OK", body: Array(#"{"results": 7, "records": "none", "page": []}"#.utf8)))
        }
    }

    /// Reads (the start of) a request and answers it with `reply`, then closes.
    private func answer(_ client: Int32, with reply: [UInt8]) {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        _ = read(client, &buffer, buffer.count)
        _ = Self.writeAll(client, reply[...])
        shutdown(client, Int32(SHUT_RDWR))
    }

    /// An HTTP/1.1 reply with a JSON content type and `body`.
    public static func reply(status: String, body: [UInt8]) -> [UInt8] {
        Array("HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8) + body
    }

    private static func writeAll(_ socket: Int32, _ bytes: ArraySlice<UInt8>) -> Bool {
        var rest = bytes
        while !rest.isEmpty {
            let written = rest.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return false }
            rest = rest.dropFirst(written)
        }
        return true
    }

    private func track(_ socket: Int32) -> Bool {
        lock.withLock {
            guard !state.stopped else { return false }
            state.connections.insert(socket)
            return true
        }
    }

    private func untrack(_ socket: Int32) {
        _ = lock.withLock { state.connections.remove(socket) }
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}
