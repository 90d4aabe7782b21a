import Foundation

/// A minimal HTTP/1.0 endpoint serving `/metrics` from one background thread.
///
/// Prometheus scrapes a few times a minute; a blocking accept loop is all
/// that is needed and keeps the binary free of a full HTTP stack.
public final class MetricsHTTPServer {
    private var fd: Int32 = -1
    private var thread: Thread?
    private let body: @Sendable () -> [UInt8]
    public private(set) var boundPort: UInt16 = 0

    public enum ServerError: Error, CustomStringConvertible {
        case badAddress(String)
        case socket(String)
        public var description: String {
            switch self {
            case let .badAddress(a): return "bad --metrics address '\(a)' (expected ADDR:PORT, e.g. 127.0.0.1:9469)"
            case let .socket(s): return "metrics endpoint: \(s)"
            }
        }
    }

    /// `address` is `host:port` (IPv4), `port` alone binds loopback.
    public init(address: String, body: @escaping @Sendable () -> [UInt8]) throws {
        self.body = body
        var host = "127.0.0.1"
        var portText = address
        if let colon = address.lastIndex(of: ":") {
            host = String(address[..<colon])
            portText = String(address[address.index(after: colon)...])
        }
        guard let port = UInt16(portText) else { throw ServerError.badAddress(address) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host.isEmpty ? "127.0.0.1" : host, &addr.sin_addr) == 1 else { throw ServerError.badAddress(address) }
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerError.socket(String(cString: strerror(errno))) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0, listen(fd, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ServerError.socket("cannot listen on \(address): \(reason)")
        }
        var bound = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        boundPort = UInt16(bigEndian: bound.sin_port)
    }

    public func start() {
        let listener = fd
        let body = self.body
        let t = Thread {
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 {
                    if errno == EINTR { continue }
                    return
                }
                MetricsHTTPServer.serve(client, body: body)
                close(client)
            }
        }
        t.name = "stunscope-metrics"
        t.start()
        thread = t
    }

    private static func serve(_ client: Int32, body: @Sendable () -> [UInt8]) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request = [UInt8](repeating: 0, count: 4096)
        let n = read(client, &request, request.count)
        guard n > 0 else { return }
        let line = String(decoding: request[0..<n].prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = line.split(separator: " ")
        let path = parts.count > 1 ? parts[1] : ""
        var response: [UInt8]
        if parts.first == "GET" && (path == "/metrics" || path.hasPrefix("/metrics?")) {
            let payload = body()
            response = Array("HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: \(payload.count)\r\nConnection: close\r\n\r\n".utf8)
            response += payload
        } else {
            let payload = Array("not found; metrics are at /metrics\n".utf8)
            response = Array("HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: \(payload.count)\r\nConnection: close\r\n\r\n".utf8)
            response += payload
        }
        var sent = 0
        while sent < response.count {
            let w = response[sent...].withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
            if w <= 0 { break }
            sent += w
        }
    }

    public func stop() {
        if fd >= 0 {
            shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
            fd = -1
        }
    }
}
