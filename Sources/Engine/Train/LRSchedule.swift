/// Learning rate as a function of the (0-based) optimiser step.
public enum LRSchedule: Codable, Equatable, Sendable {
    case constant(lr: Float)
    /// Rises linearly over `warmupSteps` (step 0 gets peak/warmupSteps, step warmupSteps−1 the
    /// full peak), then falls linearly from peak at `warmupSteps` to `final` at `totalSteps`
    /// and stays there.
    case linear(peak: Float, warmupSteps: Int, totalSteps: Int, final: Float = 0)

    public func lr(at step: Int) -> Float {
        switch self {
        case .constant(let lr):
            return lr
        case .linear(let peak, let warmup, let total, let final):
            let step = max(0, step)
            if step < warmup {
                // step + 1, so the very first update already moves the weights.
                return Float(Double(peak) * Double(step + 1) / Double(warmup))
            }
            if step >= total { return final }
            let start = max(0, warmup)  // here step ≥ start and step < total, so total > start
            let progress = Double(step - start) / Double(total - start)
            return Float(Double(peak) + (Double(final) - Double(peak)) * progress)
        }
    }
}
