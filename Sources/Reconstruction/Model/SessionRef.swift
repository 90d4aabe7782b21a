/// Which session a finding, a live event or a timeline row is about.
///
/// Written as `allocation:3`, `binding:1`, `ice:2`, `sip:1` in JSON, CSV and
/// SQLite (the documented contract); code compares and renumbers the value,
/// never the text.
public enum SessionRef: Hashable, Sendable, ContractText {
    case allocation(Int)
    case binding(Int)
    case ice(Int)
    case sip(Int)

    public enum Kind: String, ContractValue, CaseIterable {
        case allocation, binding, ice, sip
    }

    public var kind: Kind {
        switch self {
        case .allocation: return .allocation
        case .binding: return .binding
        case .ice: return .ice
        case .sip: return .sip
        }
    }

    public var id: Int {
        switch self {
        case let .allocation(n), let .binding(n), let .ice(n), let .sip(n): return n
        }
    }

    public init(kind: Kind, id: Int) {
        switch kind {
        case .allocation: self = .allocation(id)
        case .binding: self = .binding(id)
        case .ice: self = .ice(id)
        case .sip: self = .sip(id)
        }
    }

    /// `allocation:3`.
    public var description: String { "\(kind.rawValue):\(id)" }
}

/// A finding's sentence. Sessions named in it stay values until output.
public struct FindingMessage: Sendable, Equatable, CustomStringConvertible, ExpressibleByStringInterpolation {
    public enum Part: Sendable, Equatable {
        case text(String)
        /// Written `Allocation 3`, `Binding session 1`, `ICE session 2`, `SIP call 1`.
        case session(SessionRef, capitalized: Bool)
    }

    public private(set) var parts: [Part]

    public init(parts: [Part]) { self.parts = parts }

    /// A sentence that names no session.
    public init(_ text: String) { parts = [.text(text)] }

    public init(stringLiteral value: String) { parts = [.text(value)] }

    public init(stringInterpolation: StringInterpolation) { parts = stringInterpolation.parts }

    public struct StringInterpolation: StringInterpolationProtocol {
        var parts: [Part] = []

        public init(literalCapacity: Int, interpolationCount: Int) {}

        public mutating func appendLiteral(_ literal: String) { appendText(literal) }

        public mutating func appendInterpolation<T>(_ value: T) { appendText("\(value)") }

        /// `\(session: .allocation(3))` -> `Allocation 3` (`allocation 3` with `capitalized: false`), kept as a value.
        public mutating func appendInterpolation(session: SessionRef, capitalized: Bool = true) {
            parts.append(.session(session, capitalized: capitalized))
        }

        private mutating func appendText(_ s: String) {
            if case let .text(t)? = parts.last {
                parts[parts.count - 1] = .text(t + s)
            } else {
                parts.append(.text(s))
            }
        }
    }

    public var description: String {
        parts.map { part -> String in
            switch part {
            case let .text(t): return t
            case let .session(s, capitalized):
                let name = FindingMessage.name(of: s)
                return capitalized ? name : name.prefix(1).lowercased() + name.dropFirst()
            }
        }.joined()
    }

    static func name(of session: SessionRef) -> String {
        switch session {
        case let .allocation(n): return "Allocation \(n)"
        case let .binding(n): return "Binding session \(n)"
        case let .ice(n): return "ICE session \(n)"
        case let .sip(n): return "SIP call \(n)"
        }
    }
}

/// Written as its sentence: the JSON contract has `message` as a string.
extension FindingMessage: ContractText {}
