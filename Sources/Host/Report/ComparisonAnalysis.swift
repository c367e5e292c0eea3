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
    /// What the whole comparison could not use, and why.
    var notes: [String] = []

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

        // The question order every run is read in: the start's, else a finished run's answers.
        let reference = folder.startAnswers
            ?? folder.variants.lazy.flatMap(\.runs).first { $0.state == .finished && $0.answers != nil }?.answers
        var ids = reference?.map(\.id) ?? []
        if Set(ids).count != ids.count {
            notes.append("the evaluation set holds a question id twice, so answers cannot be paired by question; no statistics")
            ids = []
        }
        questions = ids.isEmpty ? nil : ids.count
        let idSet = Set(ids)
        /// The run's answers in the reference order, or why they cannot be.
        func outcomes(_ answers: [EvalRecord]) -> Result<[Bool], StatisticsError> {
            let byId = Dictionary(answers.map { ($0.id, $0.correct) }, uniquingKeysWith: { a, _ in a })
            guard answers.count == ids.count, byId.count == ids.count, Set(byId.keys) == idSet else {
                let common = idSet.intersection(byId.keys).count
                return .failure(StatisticsError("scored on other questions (\(answers.count) answers, \(common) of the \(ids.count) shared questions)"))
            }
            return .success(ids.map { byId[$0]! })
        }
        if !folder.ignored.isEmpty {
            notes.append("not in experiment.json, so not reported (from other seeds or settings): \(folder.ignored.joined(separator: ", "))")
        }
        let startOutcomes = ids.isEmpty ? nil : folder.startAnswers.flatMap { try? outcomes($0).get() }
        if let s = startOutcomes {
            start = try? statistics.accuracy([RunOutcomes(seed: 0, correct: s)])
        }

        var scored: [[RunOutcomes]] = []
        variants = zip(folder.variants, summaries).map { v, runs in
            var notes: [String] = []
            var used: [RunOutcomes] = []
            // Runs that have not ended, by state ("not run", "running", "killed"), as one line
            // per state: a comparison in progress would otherwise bury its other notes.
            var unended: [(state: String, seeds: [UInt64])] = []
            for (run, summary) in zip(v.runs, runs) {
                let who = run.seed.map { "seed \($0)" } ?? run.folder
                guard let seed = run.seed else { notes.append("\(who): its seed is unknown (no run.json); left out"); continue }
                switch run.state {
                case .finished: break
                case .failed: notes.append("\(who) failed: \(summary.state.failureDetail ?? "see its log.txt"); left out of the accuracy"); continue
                default:
                    if let i = unended.firstIndex(where: { $0.state == run.state.label }) { unended[i].seeds.append(seed) }
                    else { unended.append((run.state.label, [seed])) }
                    continue
                }
                guard let answers = run.answers else {
                    notes.append("\(who) has no final answers (\(run.answersProblem ?? "no \(EvalRecords.finalFileName)")); left out")
                    continue
                }
                guard !ids.isEmpty else { continue }
                switch outcomes(answers) {
                case .success(let correct): used.append(RunOutcomes(seed: seed, correct: correct))
                case .failure(let why): notes.append("\(who) was \(why.description); left out")
                }
            }
            notes = unended.map { "seed\($0.seeds.count == 1 ? "" : "s") \($0.seeds.map(String.init).joined(separator: ", ")) \($0.state)" } + notes
            // A contrastive term that never reached the policy makes the variant reft under
            // another name; its verdict would read as the term's.
            let pushes = v.runs.flatMap { $0.metrics.updates.compactMap(\.hiddenGradContrastive) }
            if !pushes.isEmpty && pushes.allSatisfy({ $0 == 0 }) {
                notes.append(Self.inertContrastiveNote)
            }
            scored.append(used)
            return VariantResult(name: v.name, algorithm: v.algorithm, isBaseline: v.name == baseline, runs: runs,
                                 scoredSeeds: used.map(\.seed), accuracy: used.isEmpty ? nil : try? statistics.accuracy(used),
                                 notes: notes)
        }

        // Against the start: the same checkpoint under every seed.
        if let s = startOutcomes {
            var family: [(Int, PairedDifference)] = []
            for i in scored.indices where !scored[i].isEmpty {
                do {
                    family.append((i, try statistics.difference(scored[i], against: scored[i].map { RunOutcomes(seed: $0.seed, correct: s) })))
                } catch {
                    variants[i].notes.append("no comparison with the start: \(error)")
                }
            }
            for ((i, _), d) in zip(family, statistics.decide(family.map(\.1))) { variants[i].vsStart = d }
        } else {
            notes.append("the start has no final answers (\(startState.label)), so no gains over it are given")
        }
        // Against the baseline, paired by seed.
        if let b = variants.firstIndex(where: \.isBaseline), !scored[b].isEmpty {
            var family: [(Int, PairedDifference)] = []
            for i in scored.indices where i != b && !scored[i].isEmpty {
                do {
                    let d = try statistics.difference(scored[i], against: scored[b])
                    let unpaired = Set(scored[i].map(\.seed)).subtracting(d.seeds).sorted()
                    if !unpaired.isEmpty {
                        variants[i].notes.append("seed\(unpaired.count == 1 ? "" : "s") \(unpaired.map(String.init).joined(separator: ", ")) left out of the difference from \(baseline), which has no scored run of \(unpaired.count == 1 ? "it" : "them")")
                    }
                    family.append((i, d))
                } catch {
                    variants[i].notes.append("no comparison with \(baseline): \(error)")
                }
            }
            for ((i, _), d) in zip(family, statistics.decide(family.map(\.1))) { variants[i].vsBaseline = d }
        } else if variants.count > 1 {
            let why = variants.contains(where: \.isBaseline) ? "has no scored runs yet" : "is not a variant here"
            notes.append("the baseline \(baseline) \(why), so no differences from it are given")
        }
    }

    /// The comparison's notes, then each variant's, named.
    static let inertContrastiveNote = "its contrastive term gave the policy no gradient in any update of any run (grad_hidden_contrastive is 0 throughout), so it trained as reft does; a verdict here is not the term's"

    var allNotes: [String] { notes + variants.flatMap { v in v.notes.map { "\(v.name): \($0)" } } }

    /// The Holm families' sizes: the comparisons with a verdict (two seeds or more).
    var vsBaselineFamily: Int { variants.filter { ($0.vsBaseline?.comparison.seeds.count ?? 0) >= 2 }.count }
    var vsStartFamily: Int { variants.filter { ($0.vsStart?.comparison.seeds.count ?? 0) >= 2 }.count }
}
