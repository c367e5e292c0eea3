/// One value in a metrics record; the cases are exactly what a JSON line can carry.
public enum MetricValue: Equatable, Sendable {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)

    /// A Float written as its shortest decimal (0.1, not 0.10000000149011612), which is what
    /// a reader of the log expects to see for a Float loss.
    public static func float(_ f: Float) -> MetricValue {
        .double(f.isFinite ? Double("\(f)") ?? Double(f) : Double(f))
    }

    var json: String {
        switch self {
        case .int(let i): return "\(i)"
        case .double(let d): return JSONText.number(d)
        case .string(let s): return JSONText.string(s)
        case .bool(let b): return b ? "true" : "false"
        }
    }
}

extension MetricValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByStringLiteral, ExpressibleByBooleanLiteral {
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}
