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

        --baseline and --variants re-cut a comparison without running anything: e.g. each \
        learning rate's carft against the reft of the same rate, \
        `report runs/carft-stability --baseline reft-lr1e-4 --variants reft-lr1e-4,carft-lr1e-4 \
        --out runs/carft-stability/lr1e-4`. Such a cut needs --out, so the comparison's own \
        report stays as it is.
        """
    )

    @Argument(help: ArgumentHelp("The comparison's folder.", valueName: "experiment-dir"))
    var experimentDirectory: String

    @Option(help: ArgumentHelp("The variant the others are compared with (default: the comparison's baseline).", valueName: "variant"))
    var baseline: String?

    @Option(help: ArgumentHelp("Only these variants, in this order, comma-separated (default: all).", valueName: "a,b,..."))
    var variants: String?

    @Option(help: ArgumentHelp("The folder the report files go to (default: the experiment folder; required with --baseline or --variants).", valueName: "dir"))
    var out: String?

    func validate() throws {
        if (baseline != nil || variants != nil) && out == nil {
            throw ValidationError("--baseline and --variants write a different report: give --out <dir> for it, so the comparison's own report stays as it is")
        }
        if let variants, variants.split(separator: ",").isEmpty { throw ValidationError("--variants needs at least one variant name") }
    }

    func run() throws {
        func trimmed(_ d: String) -> String { d.hasSuffix("/") && d.count > 1 ? String(d.dropLast()) : d }
        let dir = trimmed(experimentDirectory), target = out.map(trimmed) ?? dir
        let names = variants.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        print(try ComparisonReport.write(experimentDirectory: dir, baseline: baseline, variants: names, outDirectory: out.map(trimmed)))
        print("\nreport: \(target)/report.html, \(target)/report.md, \(target)/accuracy.svg")
    }
}
