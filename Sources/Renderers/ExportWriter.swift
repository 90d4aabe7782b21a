import Foundation

/// `export --format`: the formats of docs/export.md.
public enum ExportFormat: String, CaseIterable, Sendable {
    case json, ndjson, csv, sqlite, html, mermaid

    /// csv writes a directory and sqlite a database: neither can go to stdout.
    public var canWriteToStandardOutput: Bool { self != .csv && self != .sqlite }
}

/// Writes exported captures in one format to a path: a file replaced
/// atomically (json, ndjson, html, mermaid; `-` is stdout), a directory of
/// CSV files, or an SQLite database that is appended to.
public enum ExportWriter {
    /// Throws `ExportError` for what the renderers refuse, or the file system's error.
    public static func write(_ exports: [ExportCapture], format: ExportFormat, to output: String) throws {
        switch format {
        case .json:
            try emit(JSONExportRenderer().render(exports), to: output)
        case .ndjson:
            try emit(NDJSONExportRenderer().render(exports), to: output)
        case .html:
            try emit(Data(HTMLReportRenderer().render(exports).utf8), to: output)
        case .mermaid:
            try emit(Data(MermaidExportRenderer().render(exports).utf8), to: output)
        case .csv:
            try CSVExportRenderer().write(exports, toDirectory: output)
        case .sqlite:
            try SQLiteExportRenderer().write(exports, toFile: output)
        }
    }

    private static func emit(_ data: Data, to output: String) throws {
        if output == "-" {
            let out = FileDescriptorOutput.standardOutput
            data.withUnsafeBytes { out.write(bytes: $0) }
            out.flush()
        } else {
            try data.write(to: URL(fileURLWithPath: output), options: .atomic)
        }
    }
}
