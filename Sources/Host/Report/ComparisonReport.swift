import Foundation

/// The end-of-comparison report: reads every run of an experiment and writes report.md (tables
/// and legend), report.html (the same plus every chart, self-contained), accuracy.svg and
/// differences.svg (the two charts a README shows). Safe to call while runs are still going or
/// after some failed: it reports what the folders hold.
enum ComparisonReport {
    /// Writes the report files and returns the terminal text (plain, fits 120 columns).
    /// `baseline` and `variants` re-cut the comparison (another baseline, some variants, in
    /// the order given); the files go to `outDirectory`, the experiment folder by default.
    static func write(experimentDirectory dir: String, baseline: String? = nil, variants: [String]? = nil,
                      outDirectory: String? = nil) throws -> String {
        var folder = try ExperimentFolder.load(dir)
        let names = folder.variants.map(\.name)
        for name in (variants ?? []) + [baseline].compactMap({ $0 }) where !names.contains(name) {
            throw CLIError("\(dir) has no variant '\(name)'; its variants are \(names.joined(separator: ", "))")
        }
        if let variants {
            folder.variants = variants.map { name in folder.variants.first { $0.name == name }! }
        }
        if let baseline {
            folder.baseline = baseline
        } else if let b = folder.baseline, !folder.variants.contains(where: { $0.name == b }) {
            throw CLIError("--variants leaves out the baseline \(b); add it, or name another with --baseline")
        }
        let dir = outDirectory ?? dir
        if outDirectory != nil {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw CLIError("could not create \(dir): \(error.localizedDescription); give another --out")
            }
        }
        let analysis = ComparisonAnalysis(folder)
        let tables = ReportTables(analysis: analysis)
        let differences = ReportCharts.differences(analysis)
        let accuracy = ReportCharts.accuracy(folder)
        try save(markdown(tables, hasAccuracyChart: !accuracy.isEmpty, hasDifferences: differences.baseline != nil), to: dir + "/report.md")
        try save(HTMLReport.page(folder: folder, tables: tables, differences: differences, accuracy: accuracy), to: dir + "/report.html")
        if let first = accuracy.first { try save(first.svg(standalone: true), to: dir + "/accuracy.svg") }
        try save((differences.baseline ?? differences.start).svg(standalone: true), to: dir + "/differences.svg")
        return terminal(tables)
    }

    static func terminal(_ t: ReportTables) -> String {
        let a = t.analysis
        var out = "Comparison \(Escaping.terminal(a.name)): \(a.variants.count) variant\(a.variants.count == 1 ? "" : "s") against \(Escaping.terminal(a.baseline))\n"
        out += t.design.map { TextTable.wrapped($0, width: 118) }.joined(separator: "\n") + "\n\n"
        out += t.verdicts().terminal() + "\n\n" + t.gainsAndCosts().terminal() + "\n\n"
        out += t.legend.map { TextTable.wrapped($0, width: 118) }.joined(separator: "\n")
        let notes = a.allNotes
        if !notes.isEmpty { out += "\n\n" + notes.map { TextTable.wrapped(Escaping.terminal($0), width: 118) }.joined(separator: "\n") }
        if let curve = t.curve(range: false, limit: 12) {
            out += "\n\nMean accuracy over seeds at each evaluation (by update; SFT: by step; the first questions of the set):\n" + curve.terminal()
        }
        out += "\n\nEvery run (report.md and report.html have this and the charts):\n" + t.perRun().terminal()
        return out
    }

    static func markdown(_ t: ReportTables, hasAccuracyChart: Bool, hasDifferences: Bool) -> String {
        let a = t.analysis
        var lines = ["# \(Escaping.markdownCell(a.name)): comparison report", "", t.design.map(Escaping.markdownCell).joined(separator: " "), "", t.full().markdown(), ""]
        lines += t.legend.map { "- " + Escaping.markdownCell($0) }
        let notes = a.allNotes
        if !notes.isEmpty { lines += [""] + notes.map { "- " + Escaping.markdownCell($0) } }
        if hasDifferences { lines += ["", "![differences](differences.svg)"] }
        lines += ["", "## Every run", "", t.perRun().markdown()]
        if let curve = t.curve(range: true) {
            lines += ["", "## Accuracy at each evaluation", "",
                      "Mean over seeds (lowest–highest seed), by update (SFT: by step), on the first questions of the evaluation set; — where a variant was not evaluated.",
                      "", curve.markdown()]
        }
        if hasAccuracyChart { lines += ["", "![accuracy](accuracy.svg)"] }
        lines += ["", "Reward, KL, loss, contrastive-loss and plugin-metric curves: report.html (self-contained, opens offline).", ""]
        return lines.joined(separator: "\n")
    }

    private static func save(_ text: String, to path: String) throws {
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw CLIError("could not write \(path): \(error.localizedDescription); check the folder is writable")
        }
    }
}
