/// Bit-level widening of the 16-bit float formats safetensors and GGUF files use. Done by hand because
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

    /// Widens `count` little-endian f16 values at `src` (any alignment) into `dst`.
    static func widenF16(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        for i in 0..<count { dst[i] = f16ToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
    }

    /// Widens `count` little-endian bf16 values at `src` (any alignment) into `dst`.
    static func widenBF16(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        for i in 0..<count { dst[i] = bf16ToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
    }
}
