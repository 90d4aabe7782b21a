import Foundation
import GRDB
import Reconstruction

/// `export --format sqlite`: the tables of `ExportTables` in one SQLite
/// database (through GRDB), with primary keys, foreign keys to the capture and
/// to the parent allocation / ICE session (ON DELETE CASCADE), and indexes on
/// endpoints and times.
///
/// Exporting into an existing database appends: each capture gets the next
/// `capture_id`. A capture already in the database (same file name and
/// SHA-256) is replaced, so exporting the same file twice does not double it.
public struct SQLiteExportRenderer {
    public init() {}

    /// Schema version stored in `PRAGMA user_version`.
    public static let userVersion = 1

    /// Writes the captures; returns the capture ids they were given.
    @discardableResult
    public func write(_ captures: [ExportCapture], toFile path: String) throws -> [Int] {
        var config = Configuration()
        config.foreignKeysEnabled = true
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: config)
        } catch {
            throw ExportError.cannotWrite(path, "\(error)")
        }
        do {
            return try queue.write { db -> [Int] in
                try Self.createSchema(db)
                var ids: [Int] = []
                for c in captures {
                    let summary = c.summary
                    if let sha = summary.sha256 {
                        try db.execute(sql: "DELETE FROM captures WHERE file = ? AND sha256 = ?", arguments: [c.file, sha])
                    }
                    let next = try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(capture_id), 0) + 1 FROM captures") ?? 1
                    for table in ExportTables.tables(for: c, captureId: next) where !table.rows.isEmpty {
                        let cols = table.spec.columns.map { Self.quoted($0.name) }.joined(separator: ", ")
                        let marks = Array(repeating: "?", count: table.spec.columns.count).joined(separator: ", ")
                        let statement = try db.makeStatement(sql: "INSERT INTO \(Self.quoted(table.spec.name)) (\(cols)) VALUES (\(marks))")
                        for row in table.rows {
                            try statement.execute(arguments: StatementArguments(row.map(Self.value)))
                        }
                    }
                    ids.append(next)
                }
                return ids
            }
        } catch let e as ExportError {
            throw e
        } catch {
            throw ExportError.database("\(error)")
        }
    }

    /// CREATE TABLE / INDEX IF NOT EXISTS for every table; columns a newer
    /// StunScope added are appended to tables an older one created.
    static func createSchema(_ db: Database) throws {
        for spec in ExportTables.specs {
            if try db.tableExists(spec.name) {
                let have = Set(try db.columns(in: spec.name).map(\.name))
                for col in spec.columns where !have.contains(col.name) {
                    try db.execute(sql: "ALTER TABLE \(quoted(spec.name)) ADD COLUMN \(quoted(col.name)) \(col.type.rawValue)")
                }
            } else {
                try db.execute(sql: createTableSQL(spec))
            }
            for index in spec.indexes {
                let name = "idx_\(spec.name)_" + index.joined(separator: "_")
                try db.execute(sql: "CREATE INDEX IF NOT EXISTS \(quoted(name)) ON \(quoted(spec.name)) (\(index.map(quoted).joined(separator: ", ")))")
            }
        }
        try db.execute(sql: "PRAGMA user_version = \(userVersion)")
    }

    public static func createTableSQL(_ spec: ExportTables.Spec) -> String {
        var parts = spec.columns.map { col -> String in
            let notNull = spec.primaryKey.contains(col.name) ? " NOT NULL" : ""
            return "  \(quoted(col.name)) \(col.type.rawValue)\(notNull)"
        }
        parts.append("  PRIMARY KEY (\(spec.primaryKey.map(quoted).joined(separator: ", ")))")
        for fk in spec.foreignKeys {
            parts.append("  FOREIGN KEY (\(fk.columns.map(quoted).joined(separator: ", "))) REFERENCES \(quoted(fk.table)) (\(fk.references.map(quoted).joined(separator: ", "))) ON DELETE CASCADE")
        }
        return "CREATE TABLE \(quoted(spec.name)) (\n" + parts.joined(separator: ",\n") + "\n)"
    }

    static func quoted(_ identifier: String) -> String { "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    static func value(_ cell: ExportTables.Cell) -> DatabaseValue {
        switch cell {
        case .null: return .null
        case .int(let v): return v.databaseValue
        case .real(let v): return v.isFinite ? v.databaseValue : .null
        case .text(let s): return s.databaseValue
        }
    }
}
