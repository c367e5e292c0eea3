/// ggml's block formats widened to Float, following ggml-quants.c's `dequantize_row_*` exactly:
/// the same block layouts and the same float operations in the same order, so the results are
/// bit-identical to ggml's reference code and to the `gguf` Python package (which the tests
/// check). All multi-byte fields are little-endian; "f16" is an IEEE half.
enum GGMLDequantize {
    /// Converts `count` elements (a whole number of blocks of `type`) from `src` into `dst`.
    /// The caller has checked that `src` holds `count / blockSize * blockBytes` bytes and that
    /// the type `canDequantize` (so a file's unsupported type is an error before any work).
    static func run(_ type: GGMLType, _ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        precondition(count % type.blockSize == 0, "GGMLDequantize: \(count) elements are not whole \(type.name) blocks")
        let blocks = count / type.blockSize
        switch type {
        case .f32: UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: count * 4)
        case .f16: HalfFloat.widenF16(src, count: count, into: dst)
        case .bf16: HalfFloat.widenBF16(src, count: count, into: dst)
        case .q8_0: for b in 0..<blocks { q8_0(src + b * 34, dst + b * 32) }
        case .q4_0: for b in 0..<blocks { q4_0(src + b * 18, dst + b * 32) }
        case .q4_1: for b in 0..<blocks { q4_1(src + b * 20, dst + b * 32) }
        case .q4_K: for b in 0..<blocks { q4_K(src + b * 144, dst + b * 256) }
        case .q5_K: for b in 0..<blocks { q5_K(src + b * 176, dst + b * 256) }
        case .q6_K: for b in 0..<blocks { q6_K(src + b * 210, dst + b * 256) }
        default: preconditionFailure("GGMLDequantize: \(type.name) has no dequantiser; check canDequantize first")
        }
    }

    @inline(__always)
    private static func u16(_ p: UnsafeRawPointer, _ offset: Int) -> UInt16 {
        UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inline(__always)
    private static func f16(_ p: UnsafeRawPointer, _ offset: Int) -> Float { HalfFloat.f16ToFloat(u16(p, offset)) }

    @inline(__always)
    private static func byte(_ p: UnsafeRawPointer, _ offset: Int) -> UInt8 { p.load(fromByteOffset: offset, as: UInt8.self) }

    /// Q8_0, 34 bytes for 32 values: f16 scale d, then 32 int8 q; x = q·d.
    @inline(__always)
    private static func q8_0(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = f16(x, 0)
        for j in 0..<32 { y[j] = Float(Int8(bitPattern: byte(x, 2 + j))) * d }
    }

    /// Q4_0, 18 bytes for 32 values: f16 d, then 16 bytes whose low nibbles are values 0…15 and
    /// high nibbles values 16…31; x = (q − 8)·d.
    @inline(__always)
    private static func q4_0(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = f16(x, 0)
        for j in 0..<16 {
            let q = byte(x, 2 + j)
            y[j] = Float(Int(q & 0x0F) - 8) * d
            y[j + 16] = Float(Int(q >> 4) - 8) * d
        }
    }

    /// Q4_1, 20 bytes for 32 values: f16 d, f16 m, then nibbles as in Q4_0; x = q·d + m.
    @inline(__always)
    private static func q4_1(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = f16(x, 0), m = f16(x, 2)
        for j in 0..<16 {
            let q = byte(x, 4 + j)
            y[j] = Float(q & 0x0F) * d + m
            y[j + 16] = Float(q >> 4) * d + m
        }
    }

    /// The 6-bit scale and min of sub-block j (0…7) of a Q4_K/Q5_K super-block, packed into 12
    /// bytes: sub-blocks 0–3 use the low 6 bits of bytes j and j+4; sub-blocks 4–7 take their
    /// low 4 bits from byte j+4 and their top 2 bits from the spare high bits of bytes j−4 and j.
    /// (ggml's get_scale_min_k4.)
    @inline(__always)
    private static func scaleMin(_ s: UnsafeRawPointer, _ j: Int) -> (scale: Float, min: Float) {
        if j < 4 {
            return (Float(byte(s, j) & 63), Float(byte(s, j + 4) & 63))
        }
        let scale = (byte(s, j + 4) & 0x0F) | ((byte(s, j - 4) >> 6) << 4)
        let min = (byte(s, j + 4) >> 4) | ((byte(s, j) >> 6) << 4)
        return (Float(scale), Float(min))
    }

    /// Q4_K, 144 bytes for 256 values in 8 sub-blocks of 32: f16 d, f16 dmin, 12 bytes of packed
    /// 6-bit scales and mins, 128 bytes of nibbles. Each 32 bytes of nibbles hold two sub-blocks
    /// (low nibbles first); x = (d·scale)·q − dmin·min.
    @inline(__always)
    private static func q4_K(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = f16(x, 0), dmin = f16(x, 2)
        let scales = x + 4, qs = x + 16
        for group in 0..<4 {
            let (s1, m1) = scaleMin(scales, 2 * group), (s2, m2) = scaleMin(scales, 2 * group + 1)
            let d1 = d * s1, min1 = dmin * m1, d2 = d * s2, min2 = dmin * m2
            let q = qs + 32 * group, out = y + 64 * group
            for l in 0..<32 {
                let b = byte(q, l)
                out[l] = d1 * Float(b & 0x0F) - min1
                out[l + 32] = d2 * Float(b >> 4) - min2
            }
        }
    }

    /// Q5_K, 176 bytes for 256 values: as Q4_K (d, dmin, 12 scale bytes) plus 32 bytes qh of
    /// fifth bits before the 128 bytes of nibbles. Sub-block pair g takes its fifth bits from
    /// bits 2g and 2g+1 of qh[l]; x = (d·scale)·(q + 16·bit) − dmin·min.
    @inline(__always)
    private static func q5_K(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = f16(x, 0), dmin = f16(x, 2)
        let scales = x + 4, qh = x + 16, qs = x + 48
        for group in 0..<4 {
            let (s1, m1) = scaleMin(scales, 2 * group), (s2, m2) = scaleMin(scales, 2 * group + 1)
            let d1 = d * s1, min1 = dmin * m1, d2 = d * s2, min2 = dmin * m2
            let u1 = UInt8(1) << (2 * group), u2 = UInt8(2) << (2 * group)
            let q = qs + 32 * group, out = y + 64 * group
            for l in 0..<32 {
                let b = byte(q, l), h = byte(qh, l)
                out[l] = d1 * Float((b & 0x0F) + (h & u1 != 0 ? 16 : 0)) - min1
                out[l + 32] = d2 * Float((b >> 4) + (h & u2 != 0 ? 16 : 0)) - min2
            }
        }
    }

    /// Q6_K, 210 bytes for 256 values in 16 sub-blocks of 16: 128 bytes ql of low nibbles,
    /// 64 bytes qh of 2-bit high parts, 16 int8 scales, then f16 d. Each half of 128 values
    /// uses 64 bytes of ql and 32 of qh: value l+32k (k = 0…3) takes nibble k/2 of ql[l + 32·(k%2)]
    /// and bits 2k…2k+1 of qh[l]; x = (d·scale)·(q − 32).
    @inline(__always)
    private static func q6_K(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = f16(x, 208)
        for half in 0..<2 {
            let ql = x + 64 * half, qh = x + 128 + 32 * half, sc = x + 192 + 8 * half
            let out = y + 128 * half
            for l in 0..<32 {
                let s = l / 16
                let lo0 = byte(ql, l), lo1 = byte(ql, l + 32), h = byte(qh, l)
                let q1 = Int(lo0 & 0x0F | ((h >> 0) & 3) << 4) - 32
                let q2 = Int(lo1 & 0x0F | ((h >> 2) & 3) << 4) - 32
                let q3 = Int(lo0 >> 4 | ((h >> 4) & 3) << 4) - 32
                let q4 = Int(lo1 >> 4 | ((h >> 6) & 3) << 4) - 32
                out[l] = d * scale(sc, s) * Float(q1)
                out[l + 32] = d * scale(sc, s + 2) * Float(q2)
                out[l + 64] = d * scale(sc, s + 4) * Float(q3)
                out[l + 96] = d * scale(sc, s + 6) * Float(q4)
            }
        }
    }

    @inline(__always)
    private static func scale(_ sc: UnsafeRawPointer, _ i: Int) -> Float { Float(Int8(bitPattern: byte(sc, i))) }
}
