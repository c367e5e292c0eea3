import Engine
import Foundation

/// The memory a run may use here: the smaller of the machine's physical memory and the
/// control group's limit (a container or a Slurm job), read from Linux's files.
enum MachineMemory {
    static func limit() -> Double? {
        var limits: [Double] = []
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }),
           let kib = Double(line.split(separator: " ").dropFirst().first ?? "") {
            limits.append(kib * 1024)
        }
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
               let bytes = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes > 0, bytes < 1e18 {
                limits.append(bytes)
            }
        }
        return limits.min()
    }

    /// Refuses a run whose estimated peak exceeds the machine, naming the figure, its largest
    /// parts and what to change (`remedy`).
    static func check(_ estimate: MemoryEstimate, what: String, remedy: String, limit: Double? = limit()) throws {
        guard let limit, estimate.total > limit else { return }
        let parts = estimate.parts.sorted { $0.bytes > $1.bytes }.prefix(3)
            .map { "\($0.name) \(MemoryEstimate.text($0.bytes))" }.joined(separator: ", ")
        throw CLIError("\(what) needs about \(MemoryEstimate.text(estimate.total)) of memory at its peak (\(parts)), more than this machine's \(MemoryEstimate.text(limit)); \(remedy)")
    }
}
