#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's peak resident memory so far, in MB (10⁶ bytes): what a run needs of the
/// machine, written into every metrics line so memory is measured where the work happens.
public func peakResidentMB() -> Double {
    var usage = rusage()
    #if os(Linux)
    let who = __rusage_who_t(RUSAGE_SELF.rawValue)
    #else
    let who = RUSAGE_SELF
    #endif
    guard getrusage(who, &usage) == 0 else { return 0 }
    #if os(Linux)
    return Double(usage.ru_maxrss) * 1024 / 1e6  // kilobytes on Linux
    #else
    return Double(usage.ru_maxrss) / 1e6  // bytes on macOS
    #endif
}
