import Engine
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Host

/// The comparison report on a hand-written experiment folder whose numbers were worked out by
/// hand: 40 held-out questions; a start that answers the first 16 (40%); reft, the baseline, the
/// first 20 in both seeds; carft the first 30 in both seeds (+25 points over reft on ten
/// questions, every seed agreeing: better); an SFT variant no better than the start; a CARFT
/// variant (named so it needs escaping) whose seed 0 died of SIGABRT leaving a truncated line
/// and whose seed 1 answered the first 18; and a listed variant that never ran.
@Suite struct ReportTests {
    static let failedName = "a<b&c"
    static let questions = 40

    /// eval-final.jsonl answering the first `right` questions correctly.
    static func answers(right: Int) -> String {
        (0..<questions).map { q in
            #"{"answer":\#(q < right ? 7 : 8),"completion":"…","correct":\#(q < right),"gold":7,"id":"arith-test-\#(q + 1)","question":"q\#(q)"}"#
        }.joined(separator: "\n") + "\n"
    }

    static func status(_ name: String, _ seed: Int?, _ algorithm: String, _ state: String, wall: Int, signal: Int? = nil, error: String? = nil) -> String {
        let e = error.map { "\"" + $0.replacingOccurrences(of: "\n", with: "\\n") + "\"" } ?? "null"
        return #"{"name":"\#(name)","seed":\#(seed.map(String.init) ?? "null"),"algorithm":"\#(algorithm)","state":"\#(state)","exit_code":\#(state == "finished" ? "0" : "null"),"signal":\#(signal.map(String.init) ?? "null"),"error":\#(e),"wall_seconds":\#(wall)}"#
    }

    /// Writes the experiment into a fresh temp folder and returns its path.
    static func makeExperiment() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)").path
        func write(_ path: String, _ text: String) throws {
            let full = dir + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        try write("experiment.json", """
        {"name": "demo & co", "seeds": [0, 1], "baseline": "reft", "variants": [
          {"name": "reft", "algorithm": "reft", "plugins": [], "arguments": []},
          {"name": "carft", "algorithm": "carft", "plugins": [], "arguments": []},
          {"name": "sft", "algorithm": "sft", "plugins": [], "arguments": ["--steps", "30"]},
          {"name": "\(failedName)", "algorithm": "carft", "plugins": ["builtin"], "arguments": []},
          {"name": "drgrpo", "algorithm": "drgrpo", "plugins": [], "arguments": []}]}
        """)
        try write("start/status.json", status("start", nil, "eval", "finished", wall: 5))
        try write("start/eval-final.jsonl", answers(right: 16))

        for seed in 0...1 {
            // 20 updates, reward 0.2 then 0.4 (mean 0.3), KL 0.01, rollout speed 18k after a slow first update.
            var reft = #"{"kind":"eval","update":0,"accuracy":0.40,"correct":200,"total":500,"elapsed":0}"# + "\n"
            for u in 1...20 {
                reft += #"{"kind":"update","update":\#(u),"reward":\#(u <= 10 ? 0.2 : 0.4),"rollout_accuracy":0.2,"kl":0.01,"policy_loss":-0.01,"value_loss":0.3,"rollout_tokens_per_sec":\#(u == 1 ? 5000 : 18000),"train_tokens_per_sec":8000,"plugin/cosine":\#(0.1 * Double(seed + 1)),"elapsed":\#(3 * u)}"# + "\n"
                if u % 5 == 0 {
                    let acc = [5: 0.50, 10: 0.35, 15: 0.48, 20: 0.46][u]! + 0.02 * Double(seed)
                    reft += #"{"kind":"eval","update":\#(u),"accuracy":\#(acc),"correct":0,"total":500,"elapsed":\#(3 * u)}"# + "\n"
                }
            }
            reft += #"{"kind":"final_eval","update":20,"accuracy":0.5,"correct":20,"total":40}"# + "\n"
            try write("reft/seed-\(seed)/status.json", status("reft", seed, "reft", "finished", wall: 600))
            try write("reft/seed-\(seed)/metrics.jsonl", reft)
            try write("reft/seed-\(seed)/run.json", #"{"command":"rl","rl":{"updates":20,"seed":\#(seed)}}"#)
            try write("reft/seed-\(seed)/eval-final.jsonl", answers(right: 20))

            try write("carft/seed-\(seed)/status.json", status("carft", seed, "carft", "finished", wall: 700))
            try write("carft/seed-\(seed)/metrics.jsonl", #"{"kind":"eval","update":0,"accuracy":0.40,"correct":200,"total":500,"elapsed":0}"# + "\n"
                      + #"{"kind":"update","update":1,"reward":0.5,"kl":0.02,"contrastive_loss":1.5,"grad_hidden_contrastive":0.0,"rollout_tokens_per_sec":16000,"train_tokens_per_sec":6000,"elapsed":3}"# + "\n"
                      + #"{"kind":"eval","update":20,"accuracy":0.70,"correct":350,"total":500,"elapsed":60}"# + "\n")
            try write("carft/seed-\(seed)/run.json", #"{"command":"rl","rl":{"updates":20,"seed":\#(seed)}}"#)
            try write("carft/seed-\(seed)/eval-final.jsonl", answers(right: 30))

            try write("sft/seed-\(seed)/status.json", status("sft", seed, "sft", "finished", wall: 300))
            try write("sft/seed-\(seed)/metrics.jsonl", """
            {"kind":"eval","step":0,"accuracy":0.40,"correct":200,"total":500,"elapsed":0}
            {"kind":"train","step":10,"loss":1.0,"lr":0.001,"grad_norm":0.5,"tokens_per_sec":20000,"train_seconds":10}
            {"kind":"train","step":30,"loss":0.8,"lr":0.001,"grad_norm":0.5,"tokens_per_sec":22000,"train_seconds":30}
            {"kind":"eval","step":30,"accuracy":0.44,"correct":220,"total":500}

            """)
            try write("sft/seed-\(seed)/run.json", #"{"command":"sft","sft":{"steps":30,"seed":\#(seed)}}"#)
            try write("sft/seed-\(seed)/eval-final.jsonl", answers(right: 16))
        }

        // Seed 0: six updates (one with a NaN KL written as null), accuracy falling to a quarter,
        // then a cut-off line and SIGABRT. Seed 1 finished.
        var carft = #"{"kind":"eval","update":0,"accuracy":0.40,"correct":200,"total":500,"elapsed":0}"# + "\n"
        for u in 1...6 {
            let kl = u == 6 ? "null" : "0.02"
            carft += #"{"kind":"update","update":\#(u),"reward":0.3,"kl":\#(kl),"policy_loss":0.1,"value_loss":0.2,"contrastive_loss":\#(2.2 - 0.2 * Double(u)),"grad_hidden_contrastive":\#(u == 1 ? 0 : 0.002),"embed_cos_correct":0.4,"embed_auc":0.6,"rollout_tokens_per_sec":17000,"train_tokens_per_sec":7000,"elapsed":\#(3 * u)}"# + "\n"
            if u == 5 { carft += #"{"kind":"eval","update":5,"accuracy":0.10,"correct":50,"total":500,"elapsed":15}"# + "\n" }
        }
        carft += #"{"kind":"update","update":7,"rew"#
        try write("\(failedName)/seed-0/status.json", status(failedName, 0, "carft", "failed", wall: 40, signal: 6, error: "crashed: killed by signal 6 (SIGABRT: an abort): fatal error: non-finite loss at update 7\nCurrent stack trace:"))
        try write("\(failedName)/seed-0/metrics.jsonl", carft)
        try write("\(failedName)/seed-1/status.json", status(failedName, 1, "carft", "finished", wall: 400))
        try write("\(failedName)/seed-1/metrics.jsonl", #"{"kind":"eval","update":0,"accuracy":0.40,"correct":200,"total":500,"elapsed":0}"# + "\n")
        try write("\(failedName)/seed-1/eval-final.jsonl", answers(right: 18))
        try write("drgrpo/seed-0/status.json", status("drgrpo", 0, "drgrpo", "pending", wall: 0))
        return dir
    }

    static func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    @Test func analysisNumbers() throws {
        let dir = try Self.makeExperiment()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = try ExperimentFolder.load(dir)
        #expect(folder.name == "demo & co" && folder.seeds == [0, 1] && folder.baseline == "reft")
        #expect(folder.variants.map(\.name) == ["reft", "carft", "sft", Self.failedName, "drgrpo"])
        #expect(folder.variants.map { $0.runs.map(\.seed) } == [[0, 1], [0, 1], [0, 1], [0, 1], [0, 1]])
        #expect(folder.variants[3].runs[0].metrics.skippedLines == 1)
        let a = ComparisonAnalysis(folder)
        #expect(a.questions == 40)
        // The start: 16 of 40, the question variance alone: 0.4 ± t(39)·√(0.24·40/39/40).
        let start = try #require(a.start)
        #expect(start.mean == 0.4 && abs(start.interval.lowerBound - 0.2413) < 1e-3 && abs(start.interval.upperBound - 0.5587) < 1e-3)

        let reft = a.variants[0], carft = a.variants[1], sft = a.variants[2], failed = a.variants[3], drgrpo = a.variants[4]
        #expect(reft.isBaseline && reft.vsBaseline == nil && reft.accuracy?.mean == 0.5)
        // carft: +10 questions in both seeds over reft. Δ 0.25; the rows agree, so the variance is
        // the question term alone: SS_q = 2·(10·0.75² + 30·0.25²) = 15, SE = √(15/39/80).
        let d = try #require(carft.vsBaseline)
        #expect(d.comparison.difference == 0.25 && abs(d.comparison.standardError - (15.0 / 39 / 80).squareRoot()) < 1e-12)
        #expect(abs(d.comparison.interval.lowerBound - 0.1097) < 1e-3 && abs(d.comparison.interval.upperBound - 0.3903) < 1e-3)
        // Ten questions, all one way: 2/2¹⁰, above the t test's p, doubled by Holm over the two
        // comparisons with two seeds (a<b&c has one, so no verdict and no place in the family).
        #expect(abs(d.comparison.signFlipP - 2.0 / 1024) < 1e-15 && d.comparison.tTestP < d.comparison.signFlipP)
        #expect(abs(d.adjustedP - 4.0 / 1024) < 1e-15)
        #expect(d.verdict == .better)
        #expect(carft.vsStart?.verdict == .better && abs((carft.vsStart?.comparison.difference ?? 0) - 0.35) < 1e-12)
        // sft: 4 questions fewer than reft in both seeds: the sign-flip p = 2/2⁴ stays after Holm;
        // nothing detected, although the t test alone (on 40 questions) would reach 0.05.
        let s = try #require(sft.vsBaseline)
        #expect(abs(s.comparison.difference + 0.1) < 1e-12 && s.comparison.tTestP < 0.05 && s.adjustedP == 0.125)
        #expect(sft.vsStart?.comparison.difference == 0 && sft.vsStart?.comparison.pValue == 1)
        if case .noDetectableDifference(let mde)? = sft.vsBaseline?.verdict {
            // (t(1 − 0.05/4) + t(0.8)) × SE on 39 df: the power term is above the floor (7 questions of 2 × 40).
            let expected = (StudentT.quantile(1 - 0.0125, df: s.comparison.degreesOfFreedom) + StudentT.quantile(0.8, df: s.comparison.degreesOfFreedom)) * s.comparison.standardError
            #expect(abs(mde - expected) < 1e-12 && mde > 7.0 / 80 && abs(s.comparison.degreesOfFreedom - 39) < 1e-9)
        } else {
            Issue.record("sft: \(String(describing: sft.vsBaseline?.verdict))")
        }
        // The failed seed is left out, the other one counts; the collapse is counted per seed.
        #expect(failed.scoredSeeds == [1] && failed.accuracy?.mean == 0.45 && failed.vsBaseline?.comparison.seeds == [1])
        #expect(failed.vsBaseline?.verdict == .tooFewSeeds && failed.vsStart?.verdict == .tooFewSeeds)
        #expect(failed.collapses == (1, 2))
        #expect(failed.notes.contains { $0.contains("seed 0 failed") && $0.contains("non-finite loss") })
        #expect(drgrpo.scoredSeeds.isEmpty && drgrpo.accuracy == nil && drgrpo.vsBaseline == nil && drgrpo.collapses.judged == 0)
        #expect(drgrpo.notes == ["seeds 0, 1 not run"])
        #expect(reft.budget == "20 updates" && sft.budget == "30 steps" && drgrpo.budget == nil)
        #expect(reft.meanWallSeconds == 600 && reft.rolloutTokensPerSecond == 18000 && sft.trainTokensPerSecond == 21000)
        let run = try #require(reft.runs.first)
        #expect(run.finalAccuracy == 0.5 && run.finalQuestions == 40 && run.steps == 20 && abs(run.meanReward! - 0.3) < 1e-12)
        #expect(abs(run.largestDropPoints! - 15.0) < 1e-9 && run.collapsed == false)
    }

    @Test func writesTablesAndPages() throws {
        let dir = try Self.makeExperiment()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = try ComparisonReport.write(experimentDirectory: dir)
        let lines = text.components(separatedBy: "\n")
        func row(_ name: String) throws -> String { try #require(lines.first { $0.hasPrefix(name + " ") }, "no row for \(name) in\n\(text)") }

        #expect(text.contains("Start (the shared checkpoint): 40.0% [24.1, 55.9]."), "\(text)")
        let carft = try row("carft ★")
        for cell in ["2/2", "75.0% [61.0, 89.0]", "+25.0 [+11.0, +39.0]", "0.0039", "better", "0/2"] {
            #expect(carft.contains(cell), "carft row lacks \(cell): \(carft)")
        }
        #expect(lines.filter { $0.contains("★") && !$0.hasPrefix("verdict:") && !$0.hasPrefix("  ") }.count == 1, "only a verdict of better is marked:\n\(text)")
        #expect(try row("sft").contains("not detected (±15.3)"))
        #expect(try row("reft").contains("baseline"))
        let failed = try row(Self.failedName)
        #expect(failed.contains("1/2") && failed.contains("45.0%") && failed.contains("no verdict (1 seed)"), "\(failed)")
        #expect(try row("drgrpo").contains("0/2"))
        #expect(text.contains("\(Self.failedName): seed 0 failed"))
        #expect(text.contains("↳ crashed: killed by signal 6 (SIGABRT: an abort): fatal error: non-finite loss at update 7"), "\(text)")
        #expect(text.contains(CollapseRule.definition.prefix(40)))
        for line in lines { #expect(line.count <= 120, "wider than 120 columns: \(line)") }

        let md = try Self.read(dir + "/report.md")
        #expect(md.contains("![accuracy](accuracy.svg)") && md.contains("![differences](differences.svg)"))
        #expect(md.contains("| **carft** | carft | 2/2 | 75.0% \\[61.0, 89.0\\] |"), "\(md)")
        #expect(md.contains("no detectable difference (±15.3)"))
        #expect(md.contains("a&lt;b&amp;c") && !md.contains("a<b&c"))
        // Accuracy at each evaluation: the mean over seeds with the lowest and highest.
        #expect(md.contains("| reft | 40.0 (40.0–40.0) | 51.0 (50.0–52.0) |"), "\(md)")
        #expect(md.contains(CollapseRule.definition.prefix(40)))

        let html = try Self.read(dir + "/report.html")
        #expect(html.contains("<svg") && html.contains("<strong>carft</strong>"))
        #expect(html.contains("a&lt;b&amp;c") && !html.contains("a<b&c") && html.contains("demo &amp; co"))
        let offline = html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")
        #expect(!offline.contains("http://") && !offline.contains("https://") && !offline.contains("<script"))
        #expect(html.contains("Contrastive loss (CARFT)") && html.contains("Plugin metric cosine"))
        // CARFT's embedding diagnostics are charted when recorded, and only those recorded.
        #expect(html.contains("Cosine of a correct rollout") && html.contains("separates correct from wrong rollouts (AUC"))
        #expect(!html.contains("Cosine of a wrong rollout"))
        #expect(html.contains("continued SFT"), "SFT variants get a chart of their own, by step")

        for file in ["accuracy.svg", "differences.svg"] {
            let data = try #require(FileManager.default.contents(atPath: dir + "/" + file))
            let doc = try XMLDocument(data: data)
            #expect(doc.rootElement()?.name == "svg" && doc.rootElement()?.uri == "http://www.w3.org/2000/svg")
        }
        let accuracy = try Self.read(dir + "/accuracy.svg")
        // RL variants only (sft has its own chart): reft, carft and a<b&c have evaluations, each a line and a band.
        #expect(accuracy.components(separatedBy: "<polyline").count - 1 == 3)
        #expect(accuracy.components(separatedBy: "<polygon").count - 1 == 1, "a band only where seeds differ (reft)")
        let differences = try Self.read(dir + "/differences.svg")
        #expect(differences.contains("#9a9a9a") && differences.contains(LineChart.color(1)), "grey for no difference, colour for better")

        // Rebuilding gives the same files: the report holds no timestamps.
        _ = try ComparisonReport.write(experimentDirectory: dir)
        #expect(try Self.read(dir + "/report.html") == html)
    }

    @Test func withoutExperimentJSONUsesRunFoldersByName() throws {
        let dir = try Self.makeExperiment()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.removeItem(atPath: dir + "/experiment.json")
        try FileManager.default.createDirectory(atPath: dir + "/not-a-run", withIntermediateDirectories: true)
        // A run folder copied in by hand: metrics and run.json in the variant folder itself.
        try FileManager.default.copyItem(atPath: dir + "/reft/seed-1", toPath: dir + "/copied")
        let e = try ExperimentFolder.load(dir)
        #expect(e.variants.map(\.name) == [Self.failedName, "carft", "copied", "drgrpo", "reft", "sft"])
        #expect(e.variants.map(\.algorithm) == ["carft", "carft", "reft", "drgrpo", "reft", "sft"])
        #expect(e.variants[2].runs.map(\.seed) == [1] && e.variants[2].runs[0].answers?.count == 40)
        #expect(e.variants[3].runs.map(\.seed) == [0])
    }

    /// With an experiment.json, exactly its variants and seeds are reported; what else lies in
    /// the folder (a removed seed, a removed variant) is named and left out.
    @Test func onlyTheListedVariantsAndSeedsAreReported() throws {
        let dir = try Self.makeExperiment()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: dir + "/reft/seed-1", toPath: dir + "/reft/seed-7")
        try FileManager.default.copyItem(atPath: dir + "/reft", toPath: dir + "/old")
        let folder = try ExperimentFolder.load(dir)
        #expect(folder.variants.map(\.name) == ["reft", "carft", "sft", Self.failedName, "drgrpo"])
        #expect(folder.variants[0].runs.map(\.seed) == [0, 1])
        #expect(folder.ignored == ["old", "reft/seed-7"])
        let a = ComparisonAnalysis(folder)
        #expect(a.notes.contains { $0.contains("not in experiment.json") && $0.contains("old, reft/seed-7") })
        // A run copied in by hand, with its answers but no status, counts as finished.
        try FileManager.default.removeItem(atPath: dir + "/experiment.json")
        try FileManager.default.removeItem(atPath: dir + "/old/seed-0")
        try FileManager.default.removeItem(atPath: dir + "/old/seed-1")
        try FileManager.default.removeItem(atPath: dir + "/old/seed-7/status.json")
        let hand = try ExperimentFolder.load(dir)
        let old = try #require(hand.variants.first { $0.name == "old" })
        #expect(old.runs.map(\.seed) == [7] && old.runs[0].state == .finished)
    }

    /// Another baseline and a subset of variants, written elsewhere: the comparison's own report
    /// is left as it was.
    @Test func aReportCanBeRecutWithAnotherBaselineAndSomeVariants() throws {
        let dir = try Self.makeExperiment()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try ComparisonReport.write(experimentDirectory: dir)
        let own = try Self.read(dir + "/report.md")
        let text = try ComparisonReport.write(experimentDirectory: dir, baseline: "carft", variants: ["carft", "reft"], outDirectory: dir + "/cut")
        #expect(text.hasPrefix("Comparison") && text.contains("2 variants against carft"), "\(text.prefix(200))")
        let cut = try Self.read(dir + "/cut/report.md")
        #expect(cut.contains("| reft") && !cut.contains("| drgrpo") && !cut.contains("| sft"))
        #expect(try Self.read(dir + "/report.md") == own)
        #expect(throws: CLIError.self) { try ComparisonReport.write(experimentDirectory: dir, baseline: "nope", outDirectory: dir + "/x") }
        do {
            _ = try ComparisonReport.write(experimentDirectory: dir, variants: ["carft", "sft"], outDirectory: dir + "/y")
            Issue.record("leaving out the baseline must be refused")
        } catch {
            #expect("\(error)".contains("--variants leaves out the baseline reft"), "\(error)")
        }
        #expect(throws: (any Error).self) { try ReportCommand.parse([dir, "--baseline", "carft"]) }
    }

    /// A variant whose contrastive term never reached the policy (grad_hidden_contrastive 0 in
    /// every update of every run) is named in the notes; one whose term acted in some update is not.
    @Test func aVariantWhoseContrastiveTermNeverActedIsNamed() throws {
        let dir = try Self.makeExperiment()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try ComparisonReport.write(experimentDirectory: dir)
        let md = try Self.read(dir + "/report.md")
        #expect(md.contains("- carft: " + Escaping.markdownCell(ComparisonAnalysis.inertContrastiveNote)), "\(md)")
        #expect(md.components(separatedBy: "its contrastive term gave the policy no gradient").count == 2, "only carft: \(md)")
        #expect(!md.contains("- reft: its contrastive term"))
    }

    /// status.json's failure kind decides whether a failed run collapsed; the error's words
    /// decide only when no kind is recorded.
    @Test func aRecordedFailureKindDecidesTheCollapse() throws {
        let dir = try Self.makeExperiment()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func reasons(_ failure: String, error: String) throws -> [String]? {
            var text = Self.status(Self.failedName, 0, "carft", "failed", wall: 40, signal: nil, error: error)
            text.removeLast()
            try (text + #","failure":"\#(failure)"}"#).write(toFile: dir + "/\(Self.failedName)/seed-0/status.json", atomically: true, encoding: .utf8)
            let v = try #require(try ExperimentFolder.load(dir).variants.first { $0.name == Self.failedName })
            return RunSummary(variant: v.name, try #require(v.runs.first { $0.seed == 0 })).collapseReasons
        }
        // (Its accuracy also fell below half the start, a reason of its own either way.)
        let error = try reasons("error", error: "exited with status 1: Error: the reward returned nan")
        #expect(error?.contains("failed with a non-finite value") == false && error?.count == 1, "\(String(describing: error))")
        let diverged = try reasons("diverged", error: "exited with status 1: Error: stopped")
        #expect(diverged?.contains("failed with a non-finite value") == true, "\(String(describing: diverged))")
    }

    @Test func clearErrors() throws {
        #expect(throws: CLIError.self) { try ExperimentFolder.load("/nonexistent/experiment") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("report-empty-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            _ = try ExperimentFolder.load(dir)
            Issue.record("an empty folder must be refused")
        } catch {
            #expect("\(error)".contains("holds no variant folders"))
        }
        try #"{"variants": [{"algorithm": "sft"}]}"#.write(toFile: dir + "/experiment.json", atomically: true, encoding: .utf8)
        do {
            _ = try ExperimentFolder.load(dir)
            Issue.record("a variant without a name must be refused")
        } catch {
            #expect("\(error)".contains("experiment.json is not a valid experiment description (.variants[0].name is missing)"), "\(error)")
        }
    }

    /// A run scored on other questions, or with an unreadable answers file, is left out with a reason.
    @Test func mismatchedAnswersAreLeftOutWithAReason() throws {
        let dir = try Self.makeExperiment()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "{\"id\": 3}\n".write(toFile: dir + "/carft/seed-1/eval-final.jsonl", atomically: true, encoding: .utf8)
        try Self.answers(right: 5).split(separator: "\n").prefix(10).joined(separator: "\n").write(toFile: dir + "/sft/seed-0/eval-final.jsonl", atomically: true, encoding: .utf8)
        let a = ComparisonAnalysis(try ExperimentFolder.load(dir))
        #expect(a.variants[1].scoredSeeds == [0] && a.variants[1].notes.contains { $0.hasPrefix("seed 1 has no final answers") })
        #expect(a.variants[2].scoredSeeds == [1] && a.variants[2].notes.contains { $0 == "seed 0 was scored on other questions (10 answers, 10 of the 40 shared questions); left out" })
    }

    // MARK: statistics helpers

    @Test func largestDrop() {
        #expect(abs(Stability.largestDrop([0.40, 0.50, 0.35, 0.48, 0.46])! - 0.15) < 1e-12)
        #expect(Stability.largestDrop([0.1, 0.2, 0.3]) == 0)
        #expect(Stability.largestDrop([0.5]) == 0)
        #expect(Stability.largestDrop([]) == nil)
        // The drop is from the running best, not from the first value: 0.6 → 0.3 is 0.3.
        #expect(abs(Stability.largestDrop([0.2, 0.6, 0.4, 0.3, 0.9])! - 0.3) < 1e-12)
    }

    @Test func collapseRule() {
        let r = { (e: String?, s: Double?, f: Double?, w: [Double]) in CollapseRule.reasons(failureError: e, startAccuracy: s, finalAccuracy: f, rewards: w) }
        // A recorded failure kind decides over the error's words.
        #expect(CollapseRule.reasons(failureError: "the RL loss became nan", diverged: false, startAccuracy: 0.4, finalAccuracy: 0.4, rewards: []) == [])
        #expect(CollapseRule.reasons(failureError: "stopped", diverged: true, startAccuracy: 0.4, finalAccuracy: 0.4, rewards: [])?.count == 1)
        #expect(r(nil, nil, nil, []) == nil, "nothing to judge")
        #expect(r(nil, 0.40, 0.40, []) == [])
        #expect(r("fatal error: loss is NaN at update 3", nil, nil, [])?.count == 1)
        #expect(r("gradient became +Inf", 0.4, 0.4, [])?.count == 1)
        #expect(r("index out of range; missing information", 0.4, 0.4, []) == [], "no word 'inf' or 'nan' in it")
        // Final accuracy: strictly below half the start.
        #expect(r(nil, 0.40, 0.19, [])?.count == 1)
        #expect(r(nil, 0.40, 0.20, []) == [])
        #expect(r(nil, 0.0, 0.0, []) == [], "a start of 0 cannot halve")
        // Reward: 10 updates → stretches of 1; last below half of first.
        let early = [0.4] + Array(repeating: 0.3, count: 8)
        #expect(r(nil, nil, nil, early + [0.19])?.count == 1)
        #expect(r(nil, nil, nil, early + [0.20]) == [])
        #expect(r(nil, nil, nil, Array(early.prefix(8)) + [0.0]) == [], "fewer than 10 updates: not judged")
        // 25 updates → stretches of 3 (10% rounded up): means 0.3 and 0.1.
        #expect(r(nil, nil, nil, [0.3, 0.3, 0.3] + Array(repeating: 0.2, count: 19) + [0.1, 0.1, 0.1])?.count == 1)
        #expect(r(nil, nil, nil, [0.3, 0.3, 0.3] + Array(repeating: 0.2, count: 19) + [0.1, 0.2, 0.2]) == [])
        #expect(r(nil, nil, nil, Array(repeating: -0.1, count: 10) + [-0.5]) == [], "no rule for a non-positive early reward")
    }

    @Test func movingAverageAndWindow() {
        #expect(SeriesMath.movingAverage([1, 2, 3, 4, 5], window: 3) == [1, 1.5, 2, 3, 4])
        #expect(SeriesMath.movingAverage([1, 2, 3, 4, 5], window: 1) == [1, 2, 3, 4, 5])
        #expect(SeriesMath.movingAverage([1, 2, 3, 4, 5], window: 10) == [1, 1.5, 2, 2.5, 3])
        #expect(SeriesMath.movingAverage([], window: 3) == [])
        #expect([20, 90, 300, 3000].map { SeriesMath.smoothingWindow(points: $0) } == [1, 3, 10, 10])
        #expect(SeriesMath.median([3, 1, 2]) == 2 && SeriesMath.median([4, 1, 3, 2]) == 2.5 && SeriesMath.median([]) == nil)
    }

    @Test func axisTicks() {
        let a = AxisTicks(min: 0.183, max: 0.487)
        #expect(abs(a.step - 0.05) < 1e-12 && abs(a.lower - 0.15) < 1e-12 && abs(a.upper - 0.5) < 1e-12)
        #expect(a.values.count == 8 && a.decimals == 2 && a.label(a.values[1]) == "0.20")
        let b = AxisTicks(min: 0, max: 100)
        #expect(b.values == [0, 20, 40, 60, 80, 100] && b.decimals == 0)
        // One value: padded by 10% so the range is not empty.
        let c = AxisTicks(min: 45, max: 45)
        #expect(c.lower == 40 && c.upper == 50 && c.step == 2)
        // Zero: padded by 1, and never below zero for non-negative data.
        let d = AxisTicks(min: 0, max: 0)
        #expect(d.lower == 0 && abs(d.upper - 1) < 1e-12 && d.values.count == 6)
        #expect(AxisTicks(min: -1, max: 1).label(-1e-17) == "0.0")
        // A range lost in rounding noise is flat, not a billion ticks.
        #expect(AxisTicks(min: 1e10, max: 1e10 + 1e-6).values.count < 20)
    }

    // MARK: pieces

    @Test func textTableLayouts() {
        var t = TextTable(columns: [.init(header: "variant"), .init(header: "acc", numeric: true), .init(header: "state")])
        t.add(["a|b", "5.0", "finished"], marked: true)
        t.add(["long-name", "12.5", "FAILED"], note: "boom\u{1B}[0m")
        let term = t.terminal().components(separatedBy: "\n")
        #expect(term[0] == "variant       acc  state")
        #expect(term[1] == "a|b ★         5.0  finished")
        #expect(term[2] == "long-name    12.5  FAILED")
        #expect(term[3] == "    ↳ boom [0m")
        let md = t.markdown().components(separatedBy: "\n")
        #expect(md[1] == "| --- | ---: | --- |" && md[2] == "| **a\\|b** | 5.0 | finished |" && md[3] == "| long-name | 12.5 | FAILED — boom \\[0m |")
        #expect(t.html().contains("<td><strong>a|b</strong></td>") && t.html().contains("<span class=\"note\">boom"))
        #expect(TextTable.spread(5, 3) == [0, 2, 4] && TextTable.spread(3, 5) == [0, 1, 2] && TextTable.spread(10, 4) == [0, 3, 6, 9])
    }

    @Test func metricsParsing() {
        let m = RunMetrics.parse("""
        not json
        {"kind":"update","update":1,"reward":null,"kl":0.5,"elapsed":4}
        {"kind":"eval","update":1,"correct":3,"total":4}
        {"kind":"final_eval","update":1,"accuracy":0.5,"correct":20,"total":40}
        {"kind":"mystery"}
        {"kind":"update","update":2,"reward":1e400
        """)
        #expect(m.skippedLines == 3, "the final evaluation is known, not skipped")
        #expect(m.values(\.reward).isEmpty && m.values(\.kl) == [0.5])
        #expect(m.evaluations == [RunMetrics.Evaluation(index: 1, accuracy: 0.75, elapsed: 4)])
    }

    @Test func chartEdgeCases() {
        let empty = LineChart(title: "KL", xLabel: "update", yLabel: "KL", series: []).svg(standalone: true)
        #expect(empty.contains("no data") && !empty.contains("<polyline"))
        let noPoints = LineChart(title: "KL", xLabel: "update", yLabel: "KL",
                                 series: [.init(name: "x", colorIndex: 0, points: [ChartPoint(x: 1, y: .nan), ChartPoint(x: .infinity, y: 1)])]).svg(standalone: false)
        #expect(noPoints.contains("no data") && !noPoints.contains("<polyline"))
        let single = LineChart(title: "acc", xLabel: "min", yLabel: "%",
                               series: [.init(name: "one", colorIndex: 9, points: [ChartPoint(x: 0, y: 45)])]).svg(standalone: false)
        #expect(single.components(separatedBy: "<polyline").count == 2 && single.components(separatedBy: "<circle").count == 2)
        #expect(!single.lowercased().contains("nan") && !single.contains("inf"))
        #expect(single.contains("stroke=\"\(LineChart.palette[1])\"") && single.contains("stroke-dasharray=\"7 4\""), "the 10th variant reuses a colour with a dash")
        let flat = LineChart(title: "t", xLabel: "x", yLabel: "y",
                             series: [.init(name: "f", colorIndex: 0, points: [ChartPoint(x: 1, y: 2), ChartPoint(x: 2, y: 2), ChartPoint(x: 3, y: .nan)])]).svg(standalone: false)
        #expect(!flat.lowercased().contains("nan") && flat.contains(">1.8<") && flat.contains(">2.2<"))
        // Two curves 1.6 points apart inside noise: the axis still spans 10 points, from 2 to 12 here.
        let close = LineChart(title: "acc", xLabel: "update", yLabel: "%", series: [
            .init(name: "a", colorIndex: 0, points: [ChartPoint(x: 0, y: 7), ChartPoint(x: 1, y: 7.4)]),
            .init(name: "b", colorIndex: 1, points: [ChartPoint(x: 0, y: 7), ChartPoint(x: 1, y: 9)],
                  band: [ChartBand(x: 0, low: 7, high: 7), ChartBand(x: 1, low: 8, high: 10)]),
        ], minimumYSpan: 10).svg(standalone: false)
        #expect(close.contains(">2<") && close.contains(">12<") && close.contains("<polygon"), "\(close)")
        let nearZero = LineChart(title: "acc", xLabel: "update", yLabel: "%", series: [.init(name: "a", colorIndex: 0, points: [ChartPoint(x: 0, y: 1)])],
                                 minimumYSpan: 10).svg(standalone: false)
        #expect(nearZero.contains(">0<") && nearZero.contains(">10<") && !nearZero.contains(">-"), "accuracies keep a floor of 0")
        let forest = IntervalChart(title: "Δ", xLabel: "points", rows: [
            .init(label: "x", colorIndex: 2, estimate: 3, low: 1, high: 5, decided: true),
            .init(label: "y", colorIndex: 3, estimate: 1, low: -2, high: 4, decided: false),
            .init(label: "z", colorIndex: 4, estimate: .nan, low: .nan, high: .nan, decided: false),
        ]).svg(standalone: false)
        #expect(forest.contains(LineChart.color(2)) && forest.contains("#9a9a9a") && !forest.contains(LineChart.color(3)))
        #expect(forest.contains(">z<") && !forest.lowercased().contains("nan"))
        #expect(IntervalChart(title: "Δ", xLabel: "p", rows: []).svg(standalone: false).contains("no comparisons yet"))
    }

    @Test func escapingAndLabels() {
        #expect(Escaping.xml("a<b&c\"d'e\u{1B}[0m") == "a&lt;b&amp;c&quot;d&#39;e[0m")
        #expect(Escaping.markdownCell("x|y*z\nw") == "x\\|y\\*z w")
        #expect(Escaping.terminal("red\u{1B}[31m\ttab") == "red [31m tab")
        #expect(RunState.failed(exitCode: 1, signal: nil, error: "\n  boom  \nmore").labelWithError == "FAILED (exit 1: boom)")
        #expect(RunState.failed(exitCode: nil, signal: nil, error: nil).labelWithError == "FAILED")
        // The runner's crash words already name the signal; it is not said twice.
        let crash = RunState.failed(exitCode: nil, signal: 6, error: "crashed: killed by signal 6 (SIGABRT: an abort)\nfull output in log.txt")
        #expect(crash.labelWithError == "FAILED (crashed: killed by signal 6 (SIGABRT: an abort))")
        #expect(crash.failureDetail == "crashed: killed by signal 6 (SIGABRT: an abort)")
        #expect(RunState.failed(exitCode: nil, signal: 11, error: nil).failureDetail == "SIGSEGV")
        // A run its plugin watchdog stopped (exit 124) reads as a timeout, with the child's words.
        let hung = RunState.failed(exitCode: 124, signal: nil, error: "stopped by the plugin watchdog (exit status 124): Error: plugin p did not return from reward.score within 2 s\nfull output in log.txt")
        #expect(hung.timedOut && hung.label == "FAILED (timeout)")
        #expect(hung.labelWithError == "FAILED (timeout: stopped by the plugin watchdog (exit status 124): Error: plugin p did not return from reward.score within 2 s)")
        #expect(hung.failureDetail == "timeout: stopped by the plugin watchdog (exit status 124): Error: plugin p did not return from reward.score within 2 s")
        #expect(!RunState.failed(exitCode: 1, signal: nil, error: nil).timedOut && RunState.failed(exitCode: 1, signal: nil, error: nil).label == "FAILED (exit 1)")
        let written = try! JSONDecoder().decode(ComparisonFiles.Status.self, from: Data(#"{"name":"v","state":"failed","exit_code":124,"failure":"timeout"}"#.utf8))
        #expect(written.failure == ComparisonFiles.Status.Failure.timeout && RunState(file: written).timedOut)
        #expect(try! JSONDecoder().decode(ComparisonFiles.Status.self, from: Data(#"{"name":"v","state":"failed"}"#.utf8)).failure == nil, "an older writer's status has none")
        #expect(RunState(file: nil) == .notRun)
        #expect(ReportFormat.metric(0.3) == "0.300" && ReportFormat.metric(0.01) == "0.0100" && ReportFormat.metric(2.1) == "2.10")
        #expect(ReportFormat.points(-0.04, signed: true) == "+0.0" && ReportFormat.points(3.26, signed: true) == "+3.3")
        #expect(ReportFormat.pValue(0.0004) == "<0.001" && ReportFormat.pValue(0.0123) == "0.012" && ReportFormat.pValue(0.5) == "0.50")
        let d = PairedDifference(difference: 0.012, interval: -0.004...0.028, standardError: 0.008, degreesOfFreedom: 40, signFlipP: 0.2, tTestP: 0.15, seeds: [0, 1], questions: 2000)
        #expect(ReportFormat.difference(d) == "+1.2 [-0.4, +2.8]")
        #expect(ReportFormat.verdict(Decision(comparison: d, adjustedP: 0.2, verdict: .noDetectableDifference(smallestDetectable: 0.0231)), long: false) == "not detected (±2.3)")
        #expect(ReportFormat.collapses((1, 5)) == "1/5" && ReportFormat.collapses((0, 0)) == "—")
    }
}
