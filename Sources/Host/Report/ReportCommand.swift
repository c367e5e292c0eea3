import ArgumentParser
import Foundation

/// `workbench report <dir>`: (re)builds a comparison's report from its folders, e.g. after a
/// variant was rerun by hand or while the comparison is still going, and prints the table.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Rebuild a comparison's report (report.md, report.html, accuracy.svg) and print its table.",
        discussion: """
        Reads the experiment folder a comparison wrote: experiment.json (variant order and \
        algorithms; optional) and one subfolder per variant with status.json and metrics.jsonl. \
        Runs still going or that failed are reported as far as their metrics go.
        """
    )

    @Argument(help: ArgumentHelp("The comparison's folder.", valueName: "experiment-dir"))
    var experimentDirectory: String

    func run() throws {
        let dir = experimentDirectory.hasSuffix("/") && experimentDirectory.count > 1 ? String(experimentDirectory.dropLast()) : experimentDirectory
        print(try ComparisonReport.write(experimentDirectory: dir))
        print("\nreport: \(dir)/report.html, \(dir)/report.md, \(dir)/accuracy.svg")
    }
}
