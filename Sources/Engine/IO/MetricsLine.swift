import Foundation

/// One line of a run's metrics.jsonl: what the trainers write and the report reads back, typed.
/// The file's keys are snake_case and every line carries its `kind`. On reading, every number
/// but the line's index is optional: a non-finite value is written as null, and files written
/// before a key existed lack it.
public enum MetricsLine: Equatable, Sendable, Decodable {
    /// kind "update": one RL update.
    case update(RLUpdateLine)
    /// kind "train": one SFT step.
    case step(SFTStepLine)
    /// kind "eval": a periodic greedy evaluation on a prefix of the held-out questions.
    case eval(EvalLine)
    /// kind "final_eval": the final checkpoint on every evaluated question (eval-final.jsonl).
    case finalEval(EvalLine)

    /// The JSON object's fields, for `MetricsWriter` (which sorts the keys, so a line always
    /// has the same bytes).
    public var fields: [String: MetricValue] {
        switch self {
        case .update(let u): return u.fields
        case .step(let s): return s.fields
        case .eval(let e): return e.fields(kind: "eval")
        case .finalEval(let e): return e.fields(kind: "final_eval")
        }
    }

    private enum Key: String, CodingKey { case kind }

    public init(from decoder: Decoder) throws {
        let kind = try decoder.container(keyedBy: Key.self).decode(String.self, forKey: .kind)
        switch kind {
        case "update": self = .update(try RLUpdateLine(from: decoder))
        case "train": self = .step(try SFTStepLine(from: decoder))
        case "eval": self = .eval(try EvalLine(from: decoder))
        case "final_eval": self = .finalEval(try EvalLine(from: decoder))
        default:
            throw DecodingError.dataCorrupted(.init(codingPath: [Key.kind], debugDescription: "unknown kind \(kind)"))
        }
    }

    /// A line of the file, or nil when it is not one (a truncated last line, an unknown kind).
    public static func parse<S: StringProtocol>(_ line: S) -> MetricsLine? {
        try? JSONDecoder().decode(MetricsLine.self, from: Data(line.utf8))
    }
}

/// One RL update's line.
public struct RLUpdateLine: Equatable, Sendable, Decodable {
    public var update: Int
    public var reward, rolloutAccuracy, samplingMismatch, kl, entropy, clipFraction: Double?
    public var policyLoss, valueLoss, gradNorm, responseLength, promptLength: Double?
    public var rolloutTokensPerSecond, trainTokensPerSecond, lr, seconds, elapsed: Double?
    /// Where `seconds` went: sampling the rollouts, the forwards that score them (old and
    /// reference log-probs, what the algorithm reads from the states: values, CARFT's annotated
    /// CoTs) and the optimisation passes.
    public var rolloutSeconds, scoringSeconds, optimiseSeconds: Double?
    /// CARFT only: the contrastive loss (without c) and the embedding diagnostics.
    public var contrastiveLoss, embedCosineCorrect, embedCosineWrong, embedAUC: Double?
    /// PPO: each loss term's gradient norm on the policy's final hidden states (policy
    /// surrogate, α × value loss, c × contrastive loss), absent while the policy is held still.
    public var hiddenGradPolicy, hiddenGradValue, hiddenGradContrastive: Double?
    /// The process's peak resident memory so far, MB.
    public var peakRSS: Double?
    /// What the plugins reported through the host's metric callback, by name (the file's key
    /// is "plugin/<name>"), averaged over the update.
    public var plugin: [String: Double] = [:]

    public init(update: Int) { self.update = update }

    static let pluginPrefix = "plugin/"

    enum Key: String, CodingKey, CaseIterable {
        case update, reward, kl, entropy, lr, seconds, elapsed
        case rolloutAccuracy = "rollout_accuracy", samplingMismatch = "sampling_mismatch", clipFraction = "clip_fraction"
        case policyLoss = "policy_loss", valueLoss = "value_loss", gradNorm = "grad_norm", responseLength = "response_length"
        case promptLength = "prompt_length"
        case rolloutTokensPerSecond = "rollout_tokens_per_sec", trainTokensPerSecond = "train_tokens_per_sec"
        case rolloutSeconds = "rollout_seconds", scoringSeconds = "scoring_seconds", optimiseSeconds = "optimise_seconds"
        case contrastiveLoss = "contrastive_loss", embedCosineCorrect = "embed_cos_correct"
        case embedCosineWrong = "embed_cos_wrong", embedAUC = "embed_auc"
        case hiddenGradPolicy = "grad_hidden_policy", hiddenGradValue = "grad_hidden_value"
        case hiddenGradContrastive = "grad_hidden_contrastive"
        case peakRSS = "peak_rss_mb"
    }

    /// Each numeric field by its key, for readers that chart any of them.
    static let numbers: [(Key, WritableKeyPath<RLUpdateLine, Double?>)] = [
        (.reward, \.reward), (.rolloutAccuracy, \.rolloutAccuracy), (.samplingMismatch, \.samplingMismatch),
        (.kl, \.kl), (.entropy, \.entropy), (.clipFraction, \.clipFraction), (.policyLoss, \.policyLoss),
        (.valueLoss, \.valueLoss), (.gradNorm, \.gradNorm), (.responseLength, \.responseLength), (.promptLength, \.promptLength),
        (.rolloutTokensPerSecond, \.rolloutTokensPerSecond), (.trainTokensPerSecond, \.trainTokensPerSecond),
        (.lr, \.lr), (.seconds, \.seconds), (.elapsed, \.elapsed),
        (.rolloutSeconds, \.rolloutSeconds), (.scoringSeconds, \.scoringSeconds), (.optimiseSeconds, \.optimiseSeconds),
        (.contrastiveLoss, \.contrastiveLoss),
        (.embedCosineCorrect, \.embedCosineCorrect), (.embedCosineWrong, \.embedCosineWrong), (.embedAUC, \.embedAUC),
        (.hiddenGradPolicy, \.hiddenGradPolicy), (.hiddenGradValue, \.hiddenGradValue),
        (.hiddenGradContrastive, \.hiddenGradContrastive), (.peakRSS, \.peakRSS),
    ]

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        update = try c.decode(Int.self, forKey: .update)
        for (key, path) in Self.numbers { self[keyPath: path] = try c.decodeIfPresent(Double.self, forKey: key) }
        let all = try decoder.container(keyedBy: AnyKey.self)
        for key in all.allKeys where key.stringValue.hasPrefix(Self.pluginPrefix) {
            if let v = try all.decodeIfPresent(Double.self, forKey: key) { plugin[String(key.stringValue.dropFirst(Self.pluginPrefix.count))] = v }
        }
    }

    var fields: [String: MetricValue] {
        var f: [String: MetricValue] = ["kind": "update", Key.update.rawValue: .int(update)]
        for (key, path) in Self.numbers {
            // The learning rate is a Float setting: written as its shortest decimal.
            if let v = self[keyPath: path] { f[key.rawValue] = key == .lr ? .float(Float(v)) : .double(v) }
        }
        for (name, v) in plugin { f[Self.pluginPrefix + name] = .double(v) }
        return f
    }
}

/// One SFT step's line.
public struct SFTStepLine: Equatable, Sendable, Decodable {
    public var step: Int
    /// Float values of the step (loss, learning rate, gradient norm), kept as the Floats they are.
    public var loss, lr, gradNorm: Float?
    public var tokensPerSecond, trainSeconds: Double?
    /// The process's peak resident memory so far, MB.
    public var peakRSS: Double?

    public init(step: Int, loss: Float, lr: Float, gradNorm: Float, tokensPerSecond: Double, trainSeconds: Double, peakRSS: Double? = nil) {
        (self.step, self.loss, self.lr, self.gradNorm) = (step, loss, lr, gradNorm)
        (self.tokensPerSecond, self.trainSeconds, self.peakRSS) = (tokensPerSecond, trainSeconds, peakRSS)
    }

    enum CodingKeys: String, CodingKey {
        case step, loss, lr
        case gradNorm = "grad_norm", tokensPerSecond = "tokens_per_sec", trainSeconds = "train_seconds", peakRSS = "peak_rss_mb"
    }

    var fields: [String: MetricValue] {
        var f: [String: MetricValue] = ["kind": "train", "step": .int(step)]
        if let loss { f["loss"] = .float(loss) }
        if let lr { f["lr"] = .float(lr) }
        if let gradNorm { f["grad_norm"] = .float(gradNorm) }
        if let tokensPerSecond { f["tokens_per_sec"] = .double(tokensPerSecond) }
        if let trainSeconds { f["train_seconds"] = .double(trainSeconds) }
        if let peakRSS { f["peak_rss_mb"] = .double(peakRSS) }
        return f
    }
}

/// A greedy evaluation's line, at an RL update or an SFT step.
public struct EvalLine: Equatable, Sendable, Decodable {
    public enum Unit: String, Sendable, CaseIterable { case update, step }
    public var unit: Unit
    public var index: Int
    public var accuracy: Double?
    public var correct, total: Int?
    /// Training seconds so far (evaluation excluded); absent from final evaluations and older files.
    public var elapsed: Double?
    /// SFT's evaluations: the evaluation's generation speed.
    public var tokensPerSecond: Double?

    public init(unit: Unit, index: Int, accuracy: Double, correct: Int, total: Int, elapsed: Double? = nil, tokensPerSecond: Double? = nil) {
        (self.unit, self.index, self.accuracy, self.correct, self.total) = (unit, index, accuracy, correct, total)
        (self.elapsed, self.tokensPerSecond) = (elapsed, tokensPerSecond)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        guard let unit = Unit.allCases.first(where: { c.contains(AnyKey($0.rawValue)) }) else {
            throw DecodingError.keyNotFound(AnyKey("update"), .init(codingPath: [], debugDescription: "an evaluation line names its update or step"))
        }
        self.unit = unit
        index = try c.decode(Int.self, forKey: AnyKey(unit.rawValue))
        accuracy = try c.decodeIfPresent(Double.self, forKey: AnyKey("accuracy"))
        correct = try c.decodeIfPresent(Int.self, forKey: AnyKey("correct"))
        total = try c.decodeIfPresent(Int.self, forKey: AnyKey("total"))
        elapsed = try c.decodeIfPresent(Double.self, forKey: AnyKey("elapsed"))
        tokensPerSecond = try c.decodeIfPresent(Double.self, forKey: AnyKey("eval_tokens_per_sec"))
    }

    func fields(kind: String) -> [String: MetricValue] {
        var f: [String: MetricValue] = ["kind": .string(kind), unit.rawValue: .int(index)]
        if let accuracy { f["accuracy"] = .double(accuracy) }
        if let correct { f["correct"] = .int(correct) }
        if let total { f["total"] = .int(total) }
        if let elapsed { f["elapsed"] = .double(elapsed) }
        if let tokensPerSecond { f["eval_tokens_per_sec"] = .double(tokensPerSecond) }
        return f
    }
}

/// A JSON key known only at run time (plugin metrics, an evaluation's unit).
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
