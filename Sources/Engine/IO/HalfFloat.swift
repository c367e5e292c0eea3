/// Bit-level widening of the 16-bit float formats safetensors files use. Done by hand because
/// Swift's `Float16` is unavailable on some targets (macOS on Intel); both conversions are exact.
enum HalfFloat {
    /// IEEE binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits.
    @inline(__always)
    static func f16ToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exp = UInt32(h >> 10) & 0x1F
        let mant = UInt32(h & 0x3FF)
        if exp == 0 {
            // Zero or subnormal: mant · 2^-24, exact in Float's wider range.
            let magnitude = Float(mant) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        }
        if exp == 0x1F {
            // Infinity or NaN; the NaN payload is kept in the top mantissa bits.
            return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13))
        }
        return Float(bitPattern: sign | ((exp + 112) << 23) | (mant << 13))  // rebias 15 → 127
    }

    /// bfloat16 is the top half of a float32, so widening is a shift.
    @inline(__always)
    static func bf16ToFloat(_ h: UInt16) -> Float { Float(bitPattern: UInt32(h) << 16) }
}
