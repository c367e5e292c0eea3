import Foundation

/// The end-of-comparison report: reads every variant folder of an experiment and writes
/// report.md (tables and legend), report.html (the same plus charts, self-contained) and
/// accuracy.svg (the accuracy chart alone, for a README). Safe to call while variants are still
/// running or after some failed: it reports what the folders hold.
enum ComparisonReport {
    /// Reads every variant folder of an experiment, writes report.md, report.html and accuracy.svg into it,
    /// and returns the terminal table (plain text, fits 120+ columns, no ANSI colours needed).
    static func write(experimentDirectory: String) throws -> String {
        let experiment = try ExperimentFolder.load(experimentDirectory)
        let table = SummaryTable(experiment.variants.map(VariantSummary.init))
        let dir = experimentDirectory
        try save(markdown(name: experiment.name, table: table), to: dir + "/report.md")
        try save(HTMLReport.page(name: experiment.name, table: table, variants: experiment.variants), to: dir + "/report.html")
        try save(ReportCharts.accuracy(experiment.variants).svg(standalone: true), to: dir + "/accuracy.svg")
        let title = "Comparison \(Escaping.terminal(experiment.name)): \(experiment.variants.count) variant\(experiment.variants.count == 1 ? "" : "s")"
        return title + "\n\n" + table.terminal()
    }

    static func markdown(name: String, table: SummaryTable) -> String {
        """
        # \(Escaping.markdownCell(name)): comparison report

        \(table.markdown())

        ## Accuracy over training time

        ![accuracy](accuracy.svg)

        Reward, KL, loss and contrastive-loss curves: report.html (self-contained, opens offline).

        """
    }

    private static func save(_ text: String, to path: String) throws {
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw CLIError("could not write \(path): \(error.localizedDescription); check the folder is writable")
        }
    }
}
