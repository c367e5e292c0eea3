/// Vectorised primitives for the loops that BLAS does not cover. Float reductions are written
/// with explicit SIMD accumulators because the compiler may not reassociate them on its own,
/// and `exp` is a polynomial because the scalar libm call dominated softmax and SiLU.
public enum VectorMath {
    public typealias V = SIMD16<Float>

    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = V(repeating: 0)
        var i = 0
        while i + 16 <= n {
            acc.addProduct(UnsafeRawPointer(a + i).loadUnaligned(as: V.self),
                           UnsafeRawPointer(b + i).loadUnaligned(as: V.self))
            i += 16
        }
        var s = acc.sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    @inline(__always)
    public static func sum(_ a: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = V(repeating: 0)
        var i = 0
        while i + 16 <= n { acc += UnsafeRawPointer(a + i).loadUnaligned(as: V.self); i += 16 }
        var s = acc.sum()
        while i < n { s += a[i]; i += 1 }
        return s
    }

    @inline(__always)
    public static func max(_ a: UnsafePointer<Float>, _ n: Int) -> Float {
        var m = -Float.infinity
        var acc = V(repeating: -.infinity)
        var i = 0
        while i + 16 <= n { acc = pointwiseMax(acc, UnsafeRawPointer(a + i).loadUnaligned(as: V.self)); i += 16 }
        m = acc.max()
        while i < n { m = Swift.max(m, a[i]); i += 1 }
        return m
    }

    /// e^x for 16 lanes: Cephes' expf range reduction and polynomial (relative error ~1e-7).
    @inline(__always)
    public static func exp(_ xIn: V) -> V {
        let x = xIn.clamped(lowerBound: V(repeating: -87.0), upperBound: V(repeating: 88.0))
        let n = (x * 1.442_695_040_888_963_4).rounded(.toNearestOrEven)
        let r = x - n * 0.693_359_375 + n * 2.121_944_400_546_905_8e-4
        var p = V(repeating: 1.987_569_150_0e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        p = p * (r * r) + r + 1
        let bits = (SIMD16<Int32>(n, rounding: .towardZero) &+ 127) &<< 23
        return p * unsafeBitCast(bits, to: V.self)
    }

    @inline(__always)
    public static func exp(_ x: Float) -> Float { exp(V(repeating: x))[0] }

    /// In place: a[i] = exp(a[i] - shift); returns the sum of the results.
    @inline(__always)
    public static func expShiftSum(_ a: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
        var acc = V(repeating: 0)
        var i = 0
        while i + 16 <= n {
            let e = exp(UnsafeRawPointer(a + i).loadUnaligned(as: V.self) - shift)
            UnsafeMutableRawPointer(a + i).storeBytes(of: e, as: V.self)
            acc += e
            i += 16
        }
        var s = acc.sum()
        if i < n {
            // Tail through a padded SIMD vector so every lane uses the same polynomial.
            var t = V(repeating: -.infinity)
            for j in 0..<(n - i) { t[j] = a[i + j] - shift }
            let e = exp(t)
            for j in 0..<(n - i) { a[i + j] = e[j]; s += e[j] }
        }
        return s
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
