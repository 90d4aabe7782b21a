import Foundation
import Reconstruction

/// `export --format csv`: a directory with one RFC 4180 file per table of
/// `ExportTables` (header row, stable column order, CRLF line ends), every
/// capture's rows one after the other.
public struct CSVExportRenderer {
    public init() {}

    /// File name and content per table.
    public func render(_ captures: [ExportCapture]) -> [(name: String, content: String)] {
        var bodies: [String: [String]] = [:]
        for (i, c) in captures.enumerated() {
            for t in ExportTables.tables(for: c, captureId: i + 1) {
                bodies[t.spec.name, default: []] += t.rows.map(CSVText.line)
            }
        }
        return ExportTables.specs.map { spec in
            let header = CSVText.line(spec.columns.map { .text($0.name) })
            return (spec.name + ".csv", ([header] + (bodies[spec.name] ?? [])).joined())
        }
    }

    public func write(_ captures: [ExportCapture], toDirectory path: String) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw ExportError.notADirectory(path) }
        } else {
            try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        for (name, content) in render(captures) {
            let url = URL(fileURLWithPath: path).appendingPathComponent(name)
            try Data(content.utf8).write(to: url, options: .atomic)
        }
    }
}

public enum ExportError: Error, CustomStringConvertible {
    case notADirectory(String)
    case cannotWrite(String, String)
    case database(String)

    public var description: String {
        switch self {
        case .notADirectory(let p): return "\(p) exists and is not a directory (csv writes one file per table into a directory)"
        case .cannotWrite(let p, let why): return "cannot write \(p): \(why)"
        case .database(let why): return "database error: \(why)"
        }
    }
}

/// RFC 4180 quoting and spreadsheet formula neutralising.
public enum CSVText {
    /// One record with its CRLF.
    public static func line(_ cells: [ExportTables.Cell]) -> String {
        cells.map(field).joined(separator: ",") + "\r\n"
    }

    public static func field(_ cell: ExportTables.Cell) -> String {
        switch cell {
        case .null: return ""
        case .int(let v): return String(v)
        case .real(let v): return v.isFinite ? String(v) : ""
        case .text(let s): return quote(neutralise(s))
        }
    }

    /// A text cell that a spreadsheet would read as a formula (`= + - @`, or a
    /// leading tab / CR) gets a leading apostrophe (OWASP's CSV-injection advice).
    public static func neutralise(_ s: String) -> String {
        guard let first = s.unicodeScalars.first else { return s }
        switch first {
        case "=", "+", "-", "@", "\t", "\r": return "'" + s
        default: return s
        }
    }

    /// Quotes a field when it holds a comma, a quote, CR or LF; doubles inner quotes.
    public static func quote(_ s: String) -> String {
        var needs = false
        for u in s.utf8 where u == UInt8(ascii: ",") || u == UInt8(ascii: "\"") || u == 0x0a || u == 0x0d {
            needs = true
            break
        }
        guard needs else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
