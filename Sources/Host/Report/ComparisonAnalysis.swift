import Engine
import Foundation

/// The report's decisions: every run's final answers paired question by question with the
/// start's and with the baseline's run of the same seed, turned by ComparisonStatistics into an
/// accuracy interval per variant and a verdict against the start and against the baseline, each
/// family Holm-adjusted. Runs still going, failed, or scored on other questions are left out of
/// the statistics and named in the variant's notes.
struct ComparisonAnalysis {
    struct VariantResult {
        var name: String
        var algorithm: String
        var isBaseline: Bool
        var runs: [RunSummary]
        /// The seeds whose final answers entered the statistics.
        var scoredSeeds: [UInt64]
        var accuracy: AccuracyEstimate?
        var vsStart: Decision?
        var vsBaseline: Decision?
        /// Why some runs are not in the statistics, or why a comparison is missing.
        var notes: [String]

        var collapses: (count: Int, judged: Int) {
            (runs.filter { $0.collapsed == true }.count, runs.filter { $0.collapsed != nil }.count)
        }

        /// "200 updates" when every run had that budget; "—" when none says.
        var budget: String? {
            let labels = Set(runs.compactMap { $0.budget?.label })
            return labels.count == 1 ? labels.first : labels.isEmpty ? nil : labels.sorted().joined(separator: ", ")
        }

        var meanWallSeconds: Double? { SeriesMath.mean(runs.compactMap(\.wallSeconds)) }
        var rolloutTokensPerSecond: Double? { SeriesMath.median(runs.compactMap(\.rolloutTokensPerSecond)) }
        var trainTokensPerSecond: Double? { SeriesMath.median(runs.compactMap(\.trainTokensPerSecond)) }
        var meanSteps: Double? { SeriesMath.mean(runs.compactMap { $0.steps.map(Double.init) }) }
    }

    var name: String
    var baseline: String
    var seeds: [UInt64]
    /// The evaluation set's size, from the answers.
    var questions: Int?
    var start: AccuracyEstimate?
    var startState: RunState
    var variants: [VariantResult]
    var statistics = ComparisonStatistics()

    init(_ folder: ExperimentFolder, statistics: ComparisonStatistics = ComparisonStatistics()) {
        self.statistics = statistics
        name = folder.name
        let baseline = folder.baseline ?? folder.variants.first?.name ?? ""
        self.baseline = baseline
        startState = folder.startState
        let summaries = folder.variants.map { v in v.runs.map { RunSummary(variant: v.name, $0) } }
        var seeds = folder.seeds
        for v in folder.variants { for r in v.runs { if let s = r.seed, !seeds.contains(s) { seeds.append(s) } } }
        self.seeds = seeds

        // The question order every run is read in: the start's, else the first run's answers.
        let reference = folder.startAnswers ?? folder.variants.lazy.flatMap(\.runs).compactMap(\.answers).first
        let ids = reference?.map(\.id) ?? []
        questions = ids.isEmpty ? nil : ids.count
        func outcomes(_ answers: [EvalRecord]) -> [Bool]? {
            guard answers.count == ids.count else { return nil }
            let byId = Dictionary(answers.map { ($0.id, $0.correct) }, uniquingKeysWith: { a, _ in a })
            let aligned = ids.compactMap { byId[$0] }
            return aligned.count == ids.count ? aligned : nil
        }
        let startOutcomes = folder.startAnswers.flatMap(outcomes)
        if let s = startOutcomes {
            start = try? statistics.accuracy([RunOutcomes(seed: 0, correct: s)])
        }

        var scored: [[RunOutcomes]] = []
        variants = zip(folder.variants, summaries).map { v, runs in
            var notes: [String] = []
            var used: [RunOutcomes] = []
            for (run, summary) in zip(v.runs, runs) {
                let who = run.seed.map { "seed \($0)" } ?? run.folder
                guard let seed = run.seed else { notes.append("\(who): its seed is unknown (no run.json); left out"); continue }
                switch run.state {
                case .finished: break
                case .failed: notes.append("\(who) failed: \(summary.state.failureDetail ?? "see its log.txt"); left out of the accuracy"); continue
                default: notes.append("\(who) \(run.state.label)"); continue
                }
                guard let answers = run.answers else {
                    notes.append("\(who) has no final answers (\(run.answersProblem ?? "no \(EvalRecords.finalFileName)")); left out")
                    continue
                }
                guard let correct = outcomes(answers) else {
                    notes.append("\(who) was scored on other questions (\(answers.count) against \(ids.count)); left out")
                    continue
                }
                used.append(RunOutcomes(seed: seed, correct: correct))
            }
            scored.append(used)
            return VariantResult(name: v.name, algorithm: v.algorithm, isBaseline: v.name == baseline, runs: runs,
                                 scoredSeeds: used.map(\.seed), accuracy: used.isEmpty ? nil : try? statistics.accuracy(used),
                                 notes: notes)
        }

        // Against the start: the same checkpoint under every seed.
        if let s = startOutcomes {
            let family = scored.indices.filter { !scored[$0].isEmpty }
            let diffs = family.compactMap { i in try? statistics.difference(scored[i], against: scored[i].map { RunOutcomes(seed: $0.seed, correct: s) }) }
            for (i, d) in zip(family, statistics.decide(diffs)) { variants[i].vsStart = d }
        }
        // Against the baseline, paired by seed.
        if let b = variants.firstIndex(where: \.isBaseline), !scored[b].isEmpty {
            var family: [Int] = [], diffs: [PairedDifference] = []
            for i in scored.indices where i != b && !scored[i].isEmpty {
                do {
                    diffs.append(try statistics.difference(scored[i], against: scored[b]))
                    family.append(i)
                } catch {
                    variants[i].notes.append("no comparison with \(baseline): \(error)")
                }
            }
            for (i, d) in zip(family, statistics.decide(diffs)) { variants[i].vsBaseline = d }
        }
    }

    var vsBaselineFamily: Int { variants.filter { $0.vsBaseline != nil }.count }
    var vsStartFamily: Int { variants.filter { $0.vsStart != nil }.count }
}
