/// The metadata value types of GGUF, numbered as on disk (`enum gguf_type`).
public enum GGUFValueType: UInt32, Sendable, CaseIterable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// Bytes one value of this type takes on disk; for strings and arrays the fixed part only
    /// (length or element type and count), which bounds how many can fit in what is left.
    var minimumBytes: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64, .string: 8
        case .array: 12
        }
    }
}

/// One metadata value exactly as stored: the integer width and signedness, float precision and
/// array element type survive, so nothing is lost before the caller decides what it needs.
/// The accessors (`intValue`, `floatValue`…) convert where that is exact.
public enum GGUFValue: Equatable, Sendable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    /// The element type is kept so that an empty array still says what it would hold.
    case array(GGUFValueType, [GGUFValue])

    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8; case .int8: .int8; case .uint16: .uint16; case .int16: .int16
        case .uint32: .uint32; case .int32: .int32; case .uint64: .uint64; case .int64: .int64
        case .float32: .float32; case .float64: .float64; case .bool: .bool; case .string: .string
        case .array: .array
        }
    }

    /// Any integer type whose value fits in `Int`; nil for other types (and a uint64 above Int.max).
    public var intValue: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// A float of either precision, widened to Double. Integers are not converted: a key that
    /// should be a float but holds an integer is more likely a different key than a rounding choice.
    public var floatValue: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        default: nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }

    public var stringValue: String? {
        if case .string(let v) = self { return v }
        return nil
    }

    public var arrayValues: [GGUFValue]? {
        if case .array(_, let v) = self { return v }
        return nil
    }
}

extension GGUFValue: CustomStringConvertible {
    /// Short enough for a log line: long arrays show their first elements and their length.
    public var description: String {
        switch self {
        case .string(let s): return "\"\(s)\""
        case .array(let t, let values):
            let shown = values.prefix(4).map(\.description).joined(separator: ", ")
            let more = values.count > 4 ? ", … (\(values.count) \(t)s)" : ""
            return "[\(shown)\(more)]"
        case .uint8(let v): return "\(v)"
        case .int8(let v): return "\(v)"
        case .uint16(let v): return "\(v)"
        case .int16(let v): return "\(v)"
        case .uint32(let v): return "\(v)"
        case .int32(let v): return "\(v)"
        case .uint64(let v): return "\(v)"
        case .int64(let v): return "\(v)"
        case .float32(let v): return "\(v)"
        case .float64(let v): return "\(v)"
        case .bool(let v): return "\(v)"
        }
    }
}
