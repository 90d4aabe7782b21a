import Foundation

/// Where the fleet database is: `postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE`
/// (or `postgres://`). What the URL leaves out comes from the standard
/// PostgreSQL environment (PGUSER, PGHOST, PGPORT, PGDATABASE, PGPASSWORD) or
/// a password file. The password is never part of `description`.
public struct PostgresURL: Sendable, CustomStringConvertible, Equatable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String

    public enum ParseError: Error, CustomStringConvertible, Equatable {
        case notPostgres(String)
        case badPort(String)
        case unreadablePasswordFile(String)

        public var description: String {
            switch self {
            case let .notPostgres(url): return "not a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE): \(url)"
            case let .badPort(port): return "bad port in the PostgreSQL URL: \(port)"
            case let .unreadablePasswordFile(path): return "cannot read the password file \(path)"
            }
        }
    }

    /// Whether `text` names a PostgreSQL database (the export and sink options take files too).
    public static func looksLikeURL(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
    }

    public init(host: String, port: Int, user: String, password: String?, database: String) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
    }

    /// Parses the URL; `passwordFile` (first line) wins over the URL's password, which wins over PGPASSWORD.
    public init(_ text: String, passwordFile: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ParseError) {
        guard let scheme = ["postgresql://", "postgres://"].first(where: { text.hasPrefix($0) }) else { throw .notPostgres(PostgresURL.redacted(text)) }
        var rest = Substring(text.dropFirst(scheme.count))
        if let q = rest.firstIndex(of: "?") { rest = rest[..<q] }
        var database: String?
        if let slash = rest.firstIndex(of: "/") {
            database = String(rest[rest.index(after: slash)...]).removingPercentEncoding
            rest = rest[..<slash]
        }
        var user: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = String(credentials[..<colon]).removingPercentEncoding
                password = String(credentials[credentials.index(after: colon)...]).removingPercentEncoding
            } else {
                user = String(credentials).removingPercentEncoding
            }
        }
        var host = String(rest)
        var port = Int(environment["PGPORT"] ?? "") ?? 5432
        // [v6]:port, host:port
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw .badPort(String(after.dropFirst())) }
                port = p
            }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":") {
            let p = String(host[host.index(after: colon)...])
            guard let n = Int(p), (1...65535).contains(n) else { throw .badPort(p) }
            port = n
            host = String(host[..<colon])
        }
        if host.isEmpty { host = environment["PGHOST"] ?? "127.0.0.1" }
        let resolvedUser = (user?.isEmpty == false ? user : nil) ?? environment["PGUSER"] ?? "postgres"
        if let passwordFile {
            guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else { throw .unreadablePasswordFile(passwordFile) }
            password = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        }
        self.init(host: host, port: port, user: resolvedUser, password: password ?? environment["PGPASSWORD"],
                  database: (database?.isEmpty == false ? database : nil) ?? environment["PGDATABASE"] ?? resolvedUser)
    }

    /// `postgresql://user@host:port/database`: never the password.
    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "postgresql://\(user)@\(h):\(port)/\(database)"
    }

    /// A URL as the user typed it, with any password replaced, for error messages.
    public static func redacted(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text.lastIndex(of: "@"), at > scheme.upperBound else { return text }
        let credentials = text[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }
}
