import Foundation
import Logging
import PostgresNIO
import Renderers

public enum FleetDatabaseError: Error, CustomStringConvertible {
    case connect(String, String)
    case write(String)

    public var description: String {
        switch self {
        case let .connect(url, reason): return "cannot connect to \(url): \(reason)"
        case let .write(reason): return "PostgreSQL refused the export: \(reason)"
        }
    }
}

/// `export --format postgres`: every capture's tables (`ExportTables`, as the
/// SQLite export writes them) into PostgreSQL, each row tagged with `node`.
///
/// One transaction per capture set: the schema statements, then per capture
/// the rows of an earlier export of the same capture on the same node (same
/// SHA-256) deleted (foreign keys cascade from `captures`), the next
/// `capture_id` taken and the rows inserted in batches of bound parameters
/// (never SQL built from values). An advisory lock serialises writers, so
/// nodes exporting at once get distinct capture ids and never race on the
/// schema.
public struct PostgresExporter: Sendable {
    public var url: PostgresURL
    public var node: String
    /// Rows per INSERT statement at most (and never more than 60,000 parameters).
    public var batchRows = 1_000

    public init(url: PostgresURL, node: String) {
        self.url = url
        self.node = node
    }

    /// The host name, the default `--node`.
    public static var defaultNode: String { ProcessInfo.processInfo.hostName }

    /// Writes the captures; returns the capture ids they were given. Blocks the calling thread.
    public func writeBlocking(_ captures: [ExportCapture]) throws -> [Int] {
        let box = ResultBox()
        let work: @Sendable () async throws -> [Int] = { [self] in try await self.write(captures) }
        Task.detached {
            do { box.set(.success(try await work())) } catch { box.set(.failure(error)) }
        }
        return try box.wait()
    }

    public func write(_ captures: [ExportCapture]) async throws -> [Int] {
        let logger = Logger(label: "stunscope.postgres")
        let configuration = PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user,
                                                             password: url.password, database: url.database, tls: .disable)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        } catch {
            throw FleetDatabaseError.connect(url.description, Self.reason(error))
        }
        do {
            let ids = try await transaction(connection, logger: logger) {
                for statement in PostgresSchema.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                var ids: [Int] = []
                for capture in captures { ids.append(try await self.insert(capture, connection, logger)) }
                return ids
            }
            try await connection.close()
            return ids
        } catch {
            try? await connection.close()
            throw FleetDatabaseError.write(Self.reason(error))
        }
    }

    private func transaction<T>(_ connection: PostgresConnection, logger: Logger, _ body: () async throws -> T) async throws -> T {
        try await connection.query("BEGIN", logger: logger)
        do {
            // One writer at a time (schema statements, capture ids): a transaction-scoped advisory lock.
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
            let value = try await body()
            try await connection.query("COMMIT", logger: logger)
            return value
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }

    /// 'STUN' 'SCOP' as a 64-bit key: the advisory lock every StunScope writer takes.
    static let lockKey: Int = 0x5354_554E_5343_4F50

    private func insert(_ capture: ExportCapture, _ connection: PostgresConnection, _ logger: Logger) async throws -> Int {
        if let sha = capture.summary.sha256 {
            try await connection.query("DELETE FROM \"captures\" WHERE \"node\" = \(node) AND \"sha256\" = \(sha)", logger: logger)
        }
        var next = 1
        for try await value in try await connection.query("SELECT COALESCE(MAX(\"capture_id\"), 0) + 1 FROM \"captures\"", logger: logger)
            .decode(Int.self) { next = value }
        for table in ExportTables.tables(for: capture, captureId: next) where !table.rows.isEmpty {
            let columns = ["node"] + table.spec.columns.map(\.name)
            let perStatement = max(1, min(batchRows, 60_000 / columns.count))
            let head = "INSERT INTO \(PostgresSchema.quoted(table.spec.name)) (\(columns.map(PostgresSchema.quoted).joined(separator: ", "))) VALUES "
            var start = 0
            while start < table.rows.count {
                let rows = table.rows[start..<min(start + perStatement, table.rows.count)]
                var binds = PostgresBindings(capacity: rows.count * columns.count)
                var tuples: [String] = []
                tuples.reserveCapacity(rows.count)
                var n = 0
                for row in rows {
                    var marks: [String] = []
                    marks.reserveCapacity(columns.count)
                    binds.append(node)
                    n += 1
                    marks.append("$\(n)")
                    for cell in row {
                        Self.bind(cell, into: &binds)
                        n += 1
                        marks.append("$\(n)")
                    }
                    tuples.append("(" + marks.joined(separator: ", ") + ")")
                }
                try await connection.query(PostgresQuery(unsafeSQL: head + tuples.joined(separator: ", "), binds: binds), logger: logger)
                start += rows.count
            }
        }
        return next
    }

    /// The SQLite export's values: non-finite reals become NULL there, so here too.
    static func bind(_ cell: ExportTables.Cell, into binds: inout PostgresBindings) {
        switch cell {
        case .null: binds.appendNull()
        case let .int(v): binds.append(v)
        case let .real(v): if v.isFinite { binds.append(v) } else { binds.appendNull() }
        case let .text(s): binds.append(s)
        }
    }

    /// The server's message when there is one (PSQLError hides it from `description`).
    static func reason(_ error: Error) -> String {
        if let e = error as? PSQLError {
            if let message = e.serverInfo?[.message] { return message }
            if let underlying = e.underlying { return "\(e.code): \(underlying)" }
            return "\(e.code)"
        }
        return "\(error)"
    }
}

/// The async result handed back to the blocked caller: set once by the task, read after `wait`.
final class ResultBox: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<[Int], Error>?

    func set(_ r: Result<[Int], Error>) {
        result = r
        done.signal()
    }

    func wait() throws -> [Int] {
        done.wait()
        return try result!.get()
    }
}
