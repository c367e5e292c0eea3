import Foundation
import Testing
@testable import Engine

/// Helpers shared by the RL loss tests: random inputs and central differences over [Float].
enum RLCheck {
    static func near(_ a: Double, _ b: Double, _ tol: Double = 1e-6) -> Bool {
        abs(a - b) <= tol * max(1, abs(a), abs(b))
    }

    static func near(_ a: [Float], _ b: [Double], _ tol: Double = 1e-6) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { near(Double($0), $1, tol) }
    }

    static func normals(_ n: Int, _ rng: inout RNG, scale: Float = 1, shift: Float = 0) -> [Float] {
        (0..<n).map { _ in rng.normal() * scale + shift }
    }

    /// Central differences of `loss` with respect to each entry of `x`. The step actually taken
    /// is measured after Float rounding, so the quotient uses the true denominator; the losses
    /// under test are computed in Double from their Float inputs, so what remains is the O(h^2)
    /// truncation error.
    static func numericGradient(_ x: [Float], h: Float = 1e-3, loss: ([Float]) -> Double) -> [Double] {
        var probe = x
        return (0..<x.count).map { i in
            probe[i] = x[i] + h; let plusX = probe[i]; let plus = loss(probe)
            probe[i] = x[i] - h; let minusX = probe[i]; let minus = loss(probe)
            probe[i] = x[i]
            return (plus - minus) / (Double(plusX) - Double(minusX))
        }
    }
}
