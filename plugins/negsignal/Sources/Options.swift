/// The plugin's config, read from the key=value pairs create receives. The keys (and their
/// meaning) are those of the built-in org.workbench.contrastive.lcs-negative, so the two can
/// be swapped on the command line.
struct Options {
    enum Similarity: String { case cosine, dot }
    enum Reduction: String { case mean, sum }
    enum Scope: String { case cot, sequence }

    var similarity = Similarity.cosine
    var tau = 0.2
    /// Cosine of the anchor–positive pair is clamped to min(cos, clamp), with no gradient above
    /// it; nil (config value ≥ 1) = no clamp. Cosine only.
    var positiveClamp: Double? = 0.9
    var detachDenominator = true
    var reduction = Reduction.mean
    var scope = Scope.cot

    struct Failure: Error { var message: String }

    init(keys: [String], values: [String]) throws {
        for (key, value) in zip(keys, values) {
            func choice<E: RawRepresentable>(_: E.Type) throws -> E where E.RawValue == String {
                guard let e = E(rawValue: value) else { throw Failure(message: "\(key) cannot be '\(value)'") }
                return e
            }
            func number() throws -> Double {
                guard let d = Double(value), d.isFinite else { throw Failure(message: "\(key) must be a finite number, not '\(value)'") }
                return d
            }
            switch key {
            case "similarity": similarity = try choice(Similarity.self)
            case "tau":
                tau = try number()
                guard tau > 0 else { throw Failure(message: "tau is \(value); the temperature must be > 0") }
            case "positive-clamp":
                let c = try number()
                guard c > -1 else { throw Failure(message: "positive-clamp is \(value); use a value in (-1, 1), or >= 1 for no clamp") }
                positiveClamp = c >= 1 ? nil : c
            case "detach-denominator":
                guard value == "true" || value == "false" else { throw Failure(message: "detach-denominator must be true or false, not '\(value)'") }
                detachDenominator = value == "true"
            case "reduction": reduction = try choice(Reduction.self)
            case "lcs-scope": scope = try choice(Scope.self)
            default: throw Failure(message: "unknown config key '\(key)'")
            }
        }
    }
}
