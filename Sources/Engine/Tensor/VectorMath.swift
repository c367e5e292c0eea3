import VectorKernels

/// Vectorised primitives for the loops that BLAS does not cover.
///
/// Two rules learned from profiles on this toolchain: elementwise work is written as plain
/// scalar loops over pointers, which LLVM vectorises once everything inlines (generic SIMD
/// helpers such as `pointwiseMin` or `addProduct` were left as out-of-line calls, the latter
/// per lane through libm's fmaf); float reductions use explicit SIMD accumulators with only
/// `+` and `*`, since the compiler may not reassociate a scalar sum on its own. Loops with
/// e^x in them did not vectorise at all (the float↔int bit casts stop LLVM); those, and the
/// maximum, are C with AVX-512 (`VectorKernels`).
public enum VectorMath {
    public typealias V = SIMD16<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc0 = V(repeating: 0), acc1 = V(repeating: 0)
        var i = 0
        while i + 32 <= n {
            acc0 += load(a + i) * load(b + i)
            acc1 += load(a + i + 16) * load(b + i + 16)
            i += 32
        }
        if i + 16 <= n { acc0 += load(a + i) * load(b + i); i += 16 }
        var s = (acc0 + acc1).sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    @inline(__always)
    public static func sum(_ a: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = V(repeating: 0)
        var i = 0
        while i + 16 <= n { acc += load(a + i); i += 16 }
        var s = acc.sum()
        while i < n { s += a[i]; i += 1 }
        return s
    }

    @inline(__always)
    public static func max(_ a: UnsafePointer<Float>, _ n: Int) -> Float {
        wb_max(a, n)  // NaNs are skipped, as `a[i] > m ? a[i] : m` skips them
    }

    /// e^x: Cephes' expf range reduction and polynomial (relative error ~1e-7). Rounding to an
    /// integer uses the 1.5·2²³ "magic number": adding it leaves round(x) in the low mantissa
    /// bits, with no float→int conversion in the loop.
    @inline(__always)
    public static func exp(_ x0: Float) -> Float {
        let x = x0 < -87 ? -87 : (x0 > 88 ? 88 : x0)
        let t = x * 1.442_695_040_888_963_4 + 12_582_912.0
        let n = t - 12_582_912.0
        let r = x - n * 0.693_359_375 + n * 2.121_944_400_546_905_8e-4
        var p: Float = 1.987_569_150_0e-4
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        p = p * (r * r) + r + 1
        // bits(t) = 0x4B400000 + n; shifting n + 127 into the exponent field builds 2^n.
        let e = (Int32(bitPattern: t.bitPattern) &- 0x4B40_0000 &+ 127) &<< 23
        return p * Float(bitPattern: UInt32(bitPattern: e))
    }

    /// In place: a[i] = exp(a[i] - shift); returns the sum of the results.
    @inline(__always)
    public static func expShiftSum(_ a: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
        wb_exp_shift_sum(a, n, shift)
    }

    /// In place: a = softmax(a) over its n values, shifted by their maximum.
    @inline(__always)
    public static func softmax(_ a: UnsafeMutablePointer<Float>, _ n: Int) {
        let s = expShiftSum(a, n, shift: max(a, n))
        scale(a, n, by: 1 / s)
    }

    /// In place: a[i] *= s.
    @inline(__always)
    public static func scale(_ a: UnsafeMutablePointer<Float>, _ n: Int, by s: Float) {
        for i in 0..<n { a[i] *= s }
    }

    /// y[i] += a * x[i]
    @inline(__always)
    public static func axpy(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, _ a: Float) {
        for i in 0..<n { y[i] += a * x[i] }
    }
}
