import Foundation

/// The reward checks: a table of scores on canonical completions (`CanonicalCompletions`), the
/// same batch with CoT embeddings, and determinism.
extension PluginChecker {
    static func checkReward(_ instance: PluginInstance, _ rng: inout RNG, _ run: PluginCheckRun) {
        guard let reward = try? PluginReward(instance) else { return }
        let cases = CanonicalCompletions.cases
        let plain = cases.map { RewardInput(question: CanonicalCompletions.question, completion: $0.completion, gold: CanonicalCompletions.gold) }
        let dim = 16
        let embedded = plain.map { item -> RewardInput in
            var item = item
            item.rolloutEmbedding = (0..<dim).map { _ in rng.normal() }
            item.annotatedEmbedding = (0..<dim).map { _ in rng.normal() }
            return item
        }
        func show(_ r: [Float]) -> String { r.map(score).joined(separator: ", ") }
        run.report("scores of canonical completions (gold \(ReFTFormat.formatAnswer(CanonicalCompletions.gold)), no CoT embeddings)") {
            let scores: [Float]
            do {
                scores = try reward.scores(plain)
            } catch {
                // Which completion breaks it tells the author more than the batch's error.
                let alone = cases.indices.filter { (try? reward.scores([plain[$0]])) == nil }.map { cases[$0].label }
                if alone.isEmpty { throw error }
                throw Failure("\(error); scored alone, these fail too: \(alone.joined(separator: "; "))")
            }
            return rewardTable(cases, scores)
        }
        run.check("score with \(dim)-dim CoT embeddings, same completions") { "rewards [\(show(try reward.scores(embedded)))]" }
        run.check("score is deterministic (the same batch twice)") {
            let a = try reward.scores(embedded), b = try reward.scores(embedded)
            guard a == b else { throw Failure("two calls on the same batch gave [\(show(a))] and [\(show(b))]") }
            return ""
        }
    }

    /// "1", "0.1", "0.212199": short, and exact for the usual 0/0.1/1.
    static func score(_ x: Float) -> String { String(format: "%g", Double(x)) }

    /// The table of case, what the engine reads, score and whether RL counts it right, with a
    /// warning for each score that contradicts what the engine reads.
    static func rewardTable(_ cases: [CanonicalCompletions.Case], _ scores: [Float]) -> PluginCheckRun.Report {
        let header = ["completion", "engine reads", "score", "counted right (score ≥ 1)"]
        let rows = zip(cases, scores).map { c, s in
            [c.label, CanonicalCompletions.reading(c.completion), score(s), s >= 1 ? "yes" : "no"]
        }
        let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        var warnings: [String] = []
        let effect = "RL's rollout accuracy and CARFT's reward ≥ 1 masks"
        for (c, s) in zip(cases, scores) {
            if c.mustNotCountRight && s >= 1 {
                warnings.append("\"\(c.label)\" scores \(score(s)) (≥ 1), so \(effect) take it for a right answer, though the engine reads \(CanonicalCompletions.reading(c.completion)) in it")
            }
            if c.mustCountRight && s < 1 {
                warnings.append("\"\(c.label)\" scores \(score(s)) (< 1), so \(effect) never take a right answer for one; give a right answer 1 or more")
            }
        }
        let note = "(completions reach a plugin as UTF-8 text: bytes that are not UTF-8 arrive as U+FFFD, as the tokenizers decode them)"
        return .init(detail: "\(cases.count) completions of one question" + (warnings.isEmpty ? "" : ", \(warnings.count) scored against what the engine reads"),
                     lines: [line(header)] + rows.map(line) + [note], warnings: warnings)
    }
}
