import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Host

/// The comparison report on a hand-written experiment folder whose numbers were worked out by
/// hand: an SFT run, a ReFT run that drops and recovers, a CARFT run (named so it needs
/// escaping) that died of SIGABRT leaving a truncated last line, and a listed variant that
/// never ran.
@Suite struct ReportTests {
    static let failedName = "a<b&c"

    /// Writes the experiment into a fresh temp folder and returns its path.
    static func makeExperiment() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)").path
        func write(_ path: String, _ text: String) throws {
            let full = dir + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        try write("experiment.json", """
        {"name": "demo & co", "variants": [
          {"name": "sft", "algorithm": "sft", "plugins": [], "arguments": ["--minutes", "1"]},
          {"name": "reft", "algorithm": "reft", "plugins": [], "arguments": []},
          {"name": "\(failedName)", "algorithm": "carft", "plugins": ["builtin"], "arguments": []},
          {"name": "drgrpo", "algorithm": "drgrpo", "plugins": [], "arguments": []}]}
        """)

        try write("sft/status.json", #"{"name":"sft","algorithm":"sft","state":"finished","exit_code":0,"signal":null,"error":null,"wall_seconds":300}"#)
        try write("sft/metrics.jsonl", """
        {"kind":"eval","step":0,"accuracy":0.40,"correct":200,"total":500,"elapsed":0}
        {"kind":"train","step":10,"loss":1.0,"lr":0.001,"grad_norm":0.5,"tokens_per_sec":20000,"train_seconds":10}
        {"kind":"train","step":20,"loss":0.9,"lr":0.001,"grad_norm":0.5,"tokens_per_sec":22000,"train_seconds":20}
        {"kind":"eval","step":20,"accuracy":0.42,"correct":210,"total":500,"elapsed":20}
        {"kind":"train","step":30,"loss":0.8,"lr":0.001,"grad_norm":0.5,"tokens_per_sec":21000,"train_seconds":30}
        {"kind":"eval","step":30,"accuracy":0.44,"correct":220,"total":500}

        """)

        // 20 updates, reward 0.2 then 0.4 (mean 0.3), KL 0.01, rollout speed 18k after a slow first update.
        var reft = ""
        for u in 1...20 {
            reft += #"{"kind":"update","update":\#(u),"reward":\#(u <= 10 ? 0.2 : 0.4),"rollout_accuracy":0.2,"kl":0.01,"policy_loss":-0.01,"value_loss":0.3,"rollout_tokens_per_sec":\#(u == 1 ? 5000 : 18000),"train_tokens_per_sec":8000,"elapsed":\#(3 * u)}"# + "\n"
            if u % 5 == 0 {
                let acc = [5: 0.50, 10: 0.35, 15: 0.48, 20: 0.46][u]!
                reft += #"{"kind":"eval","update":\#(u),"accuracy":\#(acc),"correct":0,"total":500,"elapsed":\#(3 * u)}"# + "\n"
            }
        }
        try write("reft/status.json", #"{"name":"reft","algorithm":"reft","state":"finished","exit_code":0,"signal":null,"error":null,"wall_seconds":600}"#)
        try write("reft/metrics.jsonl", #"{"kind":"eval","update":0,"accuracy":0.40,"correct":200,"total":500,"elapsed":0}"# + "\n" + reft)

        // Six updates (one with a NaN KL written as null), accuracy falling to a quarter, then a cut-off line.
        var carft = #"{"kind":"eval","update":0,"accuracy":0.40,"correct":200,"total":500,"elapsed":0}"# + "\n"
        for u in 1...6 {
            let kl = u == 6 ? "null" : "0.02"
            carft += #"{"kind":"update","update":\#(u),"reward":0.3,"kl":\#(kl),"policy_loss":0.1,"value_loss":0.2,"contrastive_loss":\#(2.2 - 0.2 * Double(u)),"rollout_tokens_per_sec":17000,"train_tokens_per_sec":7000,"elapsed":\#(3 * u)}"# + "\n"
            if u == 5 { carft += #"{"kind":"eval","update":5,"accuracy":0.10,"correct":50,"total":500,"elapsed":15}"# + "\n" }
        }
        carft += #"{"kind":"update","update":7,"rew"#
        try write("\(failedName)/status.json", #"{"name":"a<b&c","algorithm":"carft","state":"failed","exit_code":null,"signal":6,"error":"fatal error: non-finite loss at update 7\nCurrent stack trace:","wall_seconds":40}"#)
        try write("\(failedName)/metrics.jsonl", carft)
        return dir
    }

    static func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    @Test func summaryNumbers() throws {
        let dir = try Self.makeExperiment()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let experiment = try ExperimentFolder.load(dir)
        #expect(experiment.name == "demo & co")
        #expect(experiment.variants.map(\.name) == ["sft", "reft", Self.failedName, "drgrpo"])
        let s = experiment.variants.map(VariantSummary.init)

        let sft = s[0]
        #expect(sft.algorithm == "sft" && sft.state == .finished)
        #expect(sft.startAccuracy == 0.40 && sft.finalAccuracy == 0.44 && sft.bestAccuracy == 0.44 && sft.bestAt == 30)
        #expect(abs(sft.deltaPoints! - 4.0) < 1e-9)
        #expect(sft.largestDropPoints == 0 && sft.collapsed == false)
        #expect(sft.meanReward == nil && sft.meanKL == nil && sft.meanContrastiveLoss == nil && sft.rolloutTokensPerSecond == nil)
        #expect(sft.trainTokensPerSecond == 21000 && sft.wallSeconds == 300)
        // The last eval line has no elapsed: it takes the latest train line's train_seconds.
        #expect(sft.evaluations.map(\.elapsed) == [0, 20, 30])

        let reft = s[1]
        #expect(reft.finalAccuracy == 0.46 && reft.bestAccuracy == 0.50 && reft.bestAt == 5)
        #expect(abs(reft.deltaPoints! - 6.0) < 1e-9)
        #expect(abs(reft.largestDropPoints! - 15.0) < 1e-9)
        #expect(abs(reft.meanReward! - 0.3) < 1e-12 && abs(reft.meanKL! - 0.01) < 1e-12)
        #expect(reft.rolloutTokensPerSecond == 18000 && reft.trainTokensPerSecond == 8000)
        #expect(reft.collapsed == false && reft.meanContrastiveLoss == nil)

        let carft = s[2]
        #expect(carft.state == .failed(exitCode: nil, signal: 6, error: "fatal error: non-finite loss at update 7\nCurrent stack trace:"))
        #expect(experiment.variants[2].metrics.skippedLines == 1)
        #expect(carft.finalAccuracy == 0.10 && abs(carft.largestDropPoints! - 30.0) < 1e-9 && abs(carft.deltaPoints! + 30.0) < 1e-9)
        #expect(abs(carft.meanReward! - 0.3) < 1e-12)
        #expect(abs(carft.meanKL! - 0.02) < 1e-12, "the null KL is skipped, not counted as 0")
        #expect(abs(carft.meanContrastiveLoss! - 1.5) < 1e-12)
        #expect(carft.collapsed == true)
        #expect(carft.collapseReasons?.count == 2)

        let drgrpo = s[3]
        #expect(drgrpo.state == .notRun && drgrpo.algorithm == "drgrpo")
        #expect(drgrpo.finalAccuracy == nil && drgrpo.collapsed == nil && drgrpo.meanReward == nil)
    }

    @Test func writesTablesAndPages() throws {
        let dir = try Self.makeExperiment()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let table = try ComparisonReport.write(experimentDirectory: dir)
        let lines = table.components(separatedBy: "\n")
        func row(_ name: String) throws -> String { try #require(lines.first { $0.hasPrefix(name + " ") }, "no row for \(name) in\n\(table)") }

        let reft = try row("reft")
        #expect(table.contains("start accuracy (first evaluation), the same for every variant: 40.0%"))
        for cell in ["reft", "46.0%*", "50.0% @5", "+6.0", "0.300", "0.0100", "10m00s", "18.0k", "8.0k", "15.0", "no", "finished"] {
            #expect(reft.contains(cell), "reft row lacks \(cell): \(reft)")
        }
        let sft = try row("sft")
        #expect(sft.contains("44.0% @30") && sft.contains("+4.0") && sft.contains("21.0k") && !sft.contains("*"), "\(sft)")
        #expect(!sft.contains("40.0%"), "the shared start is a line above the table, not a column")
        let failed = try row(Self.failedName)
        #expect(failed.contains("FAILED (signal 6)") && failed.contains("-30.0") && failed.contains("yes") && failed.contains("1.50"), "\(failed)")
        let note = lines[lines.firstIndex(of: failed)! + 1]
        #expect(note.contains("↳ SIGABRT: fatal error: non-finite loss at update 7") && !note.contains("stack trace"))
        #expect(try row("drgrpo").contains("not run"))
        #expect(table.contains(CollapseRule.definition.prefix(40)))
        #expect(table.contains("Accuracy at each evaluation"))
        for line in lines { #expect(line.count <= 120, "wider than 120 columns: \(line)") }

        let md = try Self.read(dir + "/report.md")
        #expect(md.contains("![accuracy](accuracy.svg)"))
        #expect(md.contains("**46.0%**") && !md.contains("**44.0%**"))
        #expect(md.contains("FAILED (signal 6 SIGABRT: fatal error: non-finite loss at update 7)"))
        #expect(md.contains("a&lt;b&amp;c") && !md.contains("a<b&c"))
        // Accuracy at each evaluation: SFT steps and RL updates share the columns, gaps are "—".
        #expect(md.contains("| variant | 0 | 5 | 10 | 15 | 20 | 30 |"))
        #expect(md.contains("| reft | 40.0% | 50.0% | 35.0% | 48.0% | 46.0% | — |"))
        #expect(md.contains(CollapseRule.definition.prefix(40)))

        let html = try Self.read(dir + "/report.html")
        #expect(html.contains("<svg"))
        #expect(html.contains("a&lt;b&amp;c") && !html.contains("a<b&c") && html.contains("demo &amp; co"))
        #expect(html.contains("<strong>46.0%</strong>"))
        let firstChart = try #require(html.range(of: "<svg").flatMap { start in html.range(of: "</svg>", range: start.upperBound..<html.endIndex).map { html[start.lowerBound..<$0.upperBound] } })
        #expect(firstChart.components(separatedBy: "<polyline").count - 1 == 3, "one curve per variant with evaluations")
        let offline = html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")
        #expect(!offline.contains("http://") && !offline.contains("https://") && !offline.contains("<script"))
        #expect(html.contains("moving average") || html.contains("unsmoothed"))
        #expect(html.contains("Contrastive loss (CARFT)"))

        let svgData = try #require(FileManager.default.contents(atPath: dir + "/accuracy.svg"))
        let doc = try XMLDocument(data: svgData)
        #expect(doc.rootElement()?.name == "svg")
        #expect(doc.rootElement()?.uri == "http://www.w3.org/2000/svg")
        let svg = try Self.read(dir + "/accuracy.svg")
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 3)
        #expect(svg.contains("drgrpo (no data)"))

        // Rebuilding gives the same files: the report holds no timestamps.
        _ = try ComparisonReport.write(experimentDirectory: dir)
        #expect(try Self.read(dir + "/report.html") == html)
    }

    @Test func withoutExperimentJSONUsesRunFoldersByName() throws {
        let dir = try Self.makeExperiment()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.removeItem(atPath: dir + "/experiment.json")
        try FileManager.default.createDirectory(atPath: dir + "/not-a-run", withIntermediateDirectories: true)
        let e = try ExperimentFolder.load(dir)
        #expect(e.variants.map(\.name) == [Self.failedName, "reft", "sft"])
        #expect(e.variants.map(\.algorithm) == ["carft", "reft", "sft"])
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
        let r = CollapseRule.reasons
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

    @Test func terminalTableColumns() {
        func variant(_ name: String, _ accuracies: [Double]) -> VariantSummary {
            let lines = accuracies.enumerated().map { #"{"kind":"eval","update":\#($0.offset * 10),"accuracy":\#($0.element)}"# }
            return VariantSummary(.init(name: name, algorithm: "reft", state: .finished, wallSeconds: nil,
                                        metrics: RunMetrics.parse(lines.joined(separator: "\n"))))
        }
        // Different starts keep the start column; the tie for best final marks both rows.
        let t = SummaryTable([variant("x", [0.2, 0.5]), variant("y", [0.3, 0.5])]).terminal()
        #expect(t.contains("  start  ") && !t.contains("the same for every variant"))
        #expect(t.components(separatedBy: "50.0%*").count == 3)
        // Many evaluations: the terminal shows an even spread, first and last included.
        #expect(SummaryTable.spread(5, 3) == [0, 2, 4] && SummaryTable.spread(3, 5) == [0, 1, 2] && SummaryTable.spread(10, 4) == [0, 3, 6, 9])
        let long = SummaryTable([variant("z", (0..<40).map { Double($0) / 100 })]).terminal()
        #expect(long.contains("of 40 shown (all in report.md)") && long.contains(" 390") && long.contains("39.0%"))
        for line in long.components(separatedBy: "\n") { #expect(line.count <= 120, "\(line)") }
    }

    @Test func metricsParsing() {
        let m = RunMetrics.parse("""
        not json
        {"kind":"update","update":1,"reward":null,"kl":0.5,"elapsed":4}
        {"kind":"eval","update":1,"correct":3,"total":4}
        {"kind":"mystery"}
        {"kind":"update","update":2,"reward":1e400
        """)
        #expect(m.skippedLines == 3)
        #expect(m.values("reward").isEmpty && m.values("kl") == [0.5])
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
    }

    @Test func escapingAndLabels() {
        #expect(Escaping.xml("a<b&c\"d'e\u{1B}[0m") == "a&lt;b&amp;c&quot;d&#39;e[0m")
        #expect(Escaping.markdownCell("x|y*z\nw") == "x\\|y\\*z w")
        #expect(Escaping.terminal("red\u{1B}[31m\ttab") == "red [31m tab")
        #expect(RunState.failed(exitCode: 1, signal: nil, error: "\n  boom  \nmore").labelWithError == "FAILED (exit 1: boom)")
        #expect(RunState.failed(exitCode: nil, signal: nil, error: nil).labelWithError == "FAILED")
        // The runner's crash words already name the signal; it is not said twice.
        let crash = RunState.failed(exitCode: nil, signal: 6, error: "crashed: killed by signal 6 (SIGABRT: an abort); full output in log.txt")
        #expect(crash.labelWithError == "FAILED (crashed: killed by signal 6 (SIGABRT: an abort); full output in log.txt)")
        #expect(crash.failureDetail == "crashed: killed by signal 6 (SIGABRT: an abort); full output in log.txt")
        #expect(RunState.failed(exitCode: nil, signal: 11, error: nil).failureDetail == "SIGSEGV")
        #expect(RunState(file: nil) == .notRun)
        #expect(ReportFormat.metric(0.3) == "0.300" && ReportFormat.metric(0.01) == "0.0100" && ReportFormat.metric(2.1) == "2.10")
        #expect(ReportFormat.points(-0.04, signed: true) == "+0.0" && ReportFormat.points(3.26, signed: true) == "+3.3")
    }
}
