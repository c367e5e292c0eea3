/// Settings of low-rank adapters (LoRA, Hu et al. 2021) on a frozen model: each targeted linear
/// map y = x·Wᵀ becomes y = x·Wᵀ + (α/r)·(x·Aᵀ)·Bᵀ with A [r, in] and B [out, r] trained, W not.
/// The tensors, names and initialisation are PEFT's, so an adapter trained here loads there.
public struct LoRAConfig: Codable, Equatable, Sendable {
    /// The linear maps of a Llama decoder layer an adapter can sit on, by PEFT's module names
    /// (q_proj ... down_proj) without the suffix.
    public enum Target: String, Codable, CaseIterable, Sendable, Comparable {
        case q, k, v, o, gate, up, down

        /// The module name in Hugging Face and PEFT files.
        public var module: String {
            switch self {
            case .q, .k, .v, .o: "self_attn.\(rawValue)_proj"
            case .gate, .up, .down: "mlp.\(rawValue)_proj"
            }
        }

        public static func < (a: Target, b: Target) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    /// r, the adapters' inner width.
    public var rank: Int
    /// The largest rank accepted: far past any useful adapter, and small enough that a damaged
    /// adapter config cannot ask for more memory than the machine has.
    public static let maxRank = 4096
    /// α; the adapter's output is scaled by α/r. Defaults to r (scale 1, as PEFT's defaults
    /// r = 8, α = 8 give).
    public var alpha: Float
    /// The maps that get an adapter, in layer order.
    public var targets: [Target]
    /// PEFT's lora_dropout: the probability each entry of an adapter's input is dropped in a
    /// training pass (`LoRADropout`); 0, the default, drops nothing.
    public var dropout: Float

    public init(rank: Int, alpha: Float? = nil, targets: [Target] = Target.allCases, dropout: Float = 0) {
        self.rank = rank
        self.alpha = alpha ?? Float(rank)
        self.targets = targets.sorted()
        self.dropout = dropout
    }

    /// α/r.
    public var scale: Float { alpha / Float(rank) }

    /// "rank 8, α 8.0 on q,v,down" (", dropout 0.05" when set), as the consoles say it.
    public var summary: String {
        "rank \(rank), α \(alpha) on \(targets.map(\.rawValue).joined(separator: ","))" + (dropout > 0 ? ", dropout \(dropout)" : "")
    }

    /// What is wrong with these settings, in the Engine's words; nil when usable.
    public var problem: String? {
        if rank < 1 || rank > Self.maxRank { return "the LoRA rank must be between 1 and \(Self.maxRank) (got \(rank))" }
        if !alpha.isFinite || alpha <= 0 { return "the LoRA alpha must be a positive number (got \(alpha))" }
        if targets.isEmpty { return "LoRA needs at least one target module (q, k, v, o, gate, up, down)" }
        if Set(targets).count != targets.count { return "a LoRA target module is named twice" }
        if !(dropout >= 0 && dropout < 1) { return "the LoRA dropout must be at least 0 and below 1 (got \(dropout))" }
        return nil
    }
}
