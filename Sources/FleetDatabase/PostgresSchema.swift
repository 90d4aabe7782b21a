import Renderers

/// The fleet database's schema: the tables and columns of the SQLite export
/// (`ExportTables`, the one description both are generated from), each with
/// a `node` column first (the StunScope instance that wrote the row), and a
/// version table. Every statement is idempotent, so every writer runs them
/// all at the start of its transaction: a new StunScope adds the columns it
/// needs to tables an older one created.
public enum PostgresSchema {
    public static let version = 1

    static func type(_ t: ExportTables.ColumnType) -> String {
        switch t {
        case .integer: return "BIGINT"
        case .real: return "DOUBLE PRECISION"
        case .text: return "TEXT"
        }
    }

    public static func quoted(_ identifier: String) -> String { "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    public static func createTable(_ spec: ExportTables.Spec) -> String {
        var parts = ["  \"node\" TEXT NOT NULL"]
        parts += spec.columns.map { col in
            "  \(quoted(col.name)) \(type(col.type))\(spec.primaryKey.contains(col.name) ? " NOT NULL" : "")"
        }
        parts.append("  PRIMARY KEY (\(spec.primaryKey.map(quoted).joined(separator: ", ")))")
        for fk in spec.foreignKeys {
            parts.append("  FOREIGN KEY (\(fk.columns.map(quoted).joined(separator: ", "))) REFERENCES \(quoted(fk.table)) (\(fk.references.map(quoted).joined(separator: ", "))) ON DELETE CASCADE")
        }
        return "CREATE TABLE IF NOT EXISTS \(quoted(spec.name)) (\n" + parts.joined(separator: ",\n") + "\n)"
    }

    /// Every statement, in order: version table, tables (parents first), added columns, indexes.
    public static var statements: [String] {
        var out = ["CREATE TABLE IF NOT EXISTS \"stunscope_schema\" (\"version\" INTEGER PRIMARY KEY, \"applied_at\" TIMESTAMPTZ NOT NULL DEFAULT now())"]
        for spec in ExportTables.specs {
            out.append(createTable(spec))
            for col in spec.columns {
                out.append("ALTER TABLE \(quoted(spec.name)) ADD COLUMN IF NOT EXISTS \(quoted(col.name)) \(type(col.type))")
            }
            out.append("CREATE INDEX IF NOT EXISTS \(quoted("idx_\(spec.name)_node")) ON \(quoted(spec.name)) (\"node\")")
            for index in spec.indexes {
                let name = "idx_\(spec.name)_" + index.joined(separator: "_")
                out.append("CREATE INDEX IF NOT EXISTS \(quoted(name)) ON \(quoted(spec.name)) (\(index.map(quoted).joined(separator: ", ")))")
            }
        }
        out.append("INSERT INTO \"stunscope_schema\" (\"version\") VALUES (\(version)) ON CONFLICT DO NOTHING")
        return out
    }
}
