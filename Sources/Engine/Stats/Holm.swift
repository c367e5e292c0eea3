/// Holm's step-down adjustment of p-values for a family of tests (here: every variant against
/// one baseline). It controls the chance of calling any true null "different" at the chosen
/// level, like Bonferroni, but rejects more: the smallest p is multiplied by m, the next by
/// m − 1, and so on, each adjusted value kept at least as large as the one before it.
public enum Holm {
    /// Adjusted p-values, in the order given.
    public static func adjust(_ p: [Double]) -> [Double] {
        let m = p.count
        let order = p.indices.sorted { (p[$0], $0) < (p[$1], $1) }
        var adjusted = [Double](repeating: 1, count: m)
        var running = 0.0
        for (rank, i) in order.enumerated() {
            running = max(running, min(1, Double(m - rank) * p[i]))
            adjusted[i] = running
        }
        return adjusted
    }
}
