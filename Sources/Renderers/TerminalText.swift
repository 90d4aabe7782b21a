/// Makes strings taken from packets safe to print on a terminal: control
/// characters (including ESC, so no ANSI sequences) and bidi overrides are
/// replaced by visible escapes.
public enum TerminalText {
    public static func sanitize(_ s: String) -> String {
        var needs = false
        for u in s.unicodeScalars where isUnsafe(u) {
            needs = true
            break
        }
        guard needs else { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count + 8)
        for u in s.unicodeScalars {
            if isUnsafe(u) {
                out += u.value < 0x100 ? "\\x" + hex2(u.value) : "\\u{" + String(u.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return out
    }

    static func isUnsafe(_ u: Unicode.Scalar) -> Bool {
        let v = u.value
        return v < 0x20 || v == 0x7f || (v >= 0x80 && v < 0xa0) || (v >= 0x202a && v <= 0x202e) || (v >= 0x2066 && v <= 0x2069)
    }

    static func hex2(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return s.count == 1 ? "0" + s : s
    }
}

/// ANSI styling, applied only when the output is a terminal.
public struct TerminalStyle: Sendable {
    public var enabled: Bool
    public init(enabled: Bool) { self.enabled = enabled }

    public func bold(_ s: String) -> String { enabled ? "\u{1b}[1m\(s)\u{1b}[0m" : s }
    public func dim(_ s: String) -> String { enabled ? "\u{1b}[2m\(s)\u{1b}[0m" : s }
    public func red(_ s: String) -> String { enabled ? "\u{1b}[31m\(s)\u{1b}[0m" : s }
    public func yellow(_ s: String) -> String { enabled ? "\u{1b}[33m\(s)\u{1b}[0m" : s }
    public func green(_ s: String) -> String { enabled ? "\u{1b}[32m\(s)\u{1b}[0m" : s }
    public func cyan(_ s: String) -> String { enabled ? "\u{1b}[36m\(s)\u{1b}[0m" : s }
}
