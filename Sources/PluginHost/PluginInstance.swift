#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PluginABI

/// What an instance's wb_host callbacks collect. The plugin reaches it through host_data.
/// Kind functions of one instance run one at a time (the header's thread rule), so the
/// messages need no lock.
final class PluginHostSink {
    let pluginID: String
    var messages: [String] = []
    var onLog: ((_ level: Int, _ message: String) -> Void)?
    var onMetric: ((_ name: String, _ value: Double) -> Void)?
    var metrics: [String: Double] = [:]
    var throttle: PluginLogThrottle

    init(pluginID: String) {
        self.pluginID = pluginID
        throttle = PluginLogThrottle(pluginID: pluginID)
    }

    static func from(_ host: UnsafePointer<wb_host>?) -> PluginHostSink? {
        guard let data = host?.pointee.host_data else { return nil }
        return Unmanaged<PluginHostSink>.fromOpaque(data).takeUnretainedValue()
    }
}

private let errorSink: @convention(c) (UnsafePointer<wb_host>?, UnsafePointer<CChar>?) -> Void = { host, message in
    PluginHostSink.from(host)?.messages.append(message.map { String(cString: $0) } ?? "(a NULL message)")
}

private let logSink: @convention(c) (UnsafePointer<wb_host>?, Int32, UnsafePointer<CChar>?) -> Void = { host, level, message in
    guard let sink = PluginHostSink.from(host) else { return }
    let text = message.map { String(cString: $0) } ?? ""
    if let onLog = sink.onLog {
        onLog(Int(level), text)
    } else {
        for line in sink.throttle.lines(for: PluginLogLine(level: Int(level), message: text)) { fputs(line + "\n", stderr) }
    }
}

// The header lets plugins call get_extension unconditionally, so it must be a function (that
// knows no extensions yet), not NULL.
private let noExtension: @convention(c) (UnsafePointer<wb_host>?, UnsafePointer<CChar>?) -> UnsafeRawPointer? = { _, _ in nil }

private let metricSink: @convention(c) (UnsafePointer<wb_host>?, UnsafePointer<CChar>?, Double) -> Void = { host, name, value in
    guard let sink = PluginHostSink.from(host), let name else { return }
    let key = String(cString: name)
    sink.metrics[key] = value
    sink.onMetric?(key, value)
}

/// One instance of a plugin, created from a config and destroyed with this object. It owns the
/// wb_host the plugin was given, which must outlive the plugin's instance (the plugin may keep
/// the pointer), so both are freed together in deinit.
public final class PluginInstance {
    public let descriptor: PluginDescriptor
    /// The config create received: every declared key, in declaration order.
    public let config: [(key: String, value: String)]
    /// The plugin's instance pointer (may be nil for a stateless plugin).
    public let handle: UnsafeMutableRawPointer?
    let host: UnsafeMutablePointer<wb_host>
    let sink: PluginHostSink

    /// Called for every log line the plugin writes (level is WB_LOG_*). Without it, lines above
    /// debug go to stderr with the plugin's id, each distinct line once and at most
    /// PluginLogThrottle.limit of them.
    public var onLog: ((_ level: Int, _ message: String) -> Void)? {
        get { sink.onLog }
        set { sink.onLog = newValue }
    }
    /// Called for every metric the plugin reports.
    public var onMetric: ((_ name: String, _ value: Double) -> Void)? {
        get { sink.onMetric }
        set { sink.onMetric = newValue }
    }
    /// The last value of each metric the plugin reported.
    public var metrics: [String: Double] { sink.metrics }

    /// Creates an instance. `config` holds the user's key=value pairs; they are checked against
    /// the declared keys and completed with defaults before the plugin sees them. `onLog` is
    /// set before create runs, so it also hears what create logs.
    public init(_ descriptor: PluginDescriptor, config: [String: String] = [:],
                onLog: ((_ level: Int, _ message: String) -> Void)? = nil) throws {
        self.descriptor = descriptor
        let resolved = try PluginConfig.resolve(config, for: descriptor)
        self.config = resolved
        let sink = PluginHostSink(pluginID: descriptor.id)
        sink.onLog = onLog
        let host = UnsafeMutablePointer<wb_host>.allocate(capacity: 1)
        host.initialize(to: wb_host(struct_size: ABIStruct.size(wb_host.self), reserved: 0,
                                    host_data: Unmanaged.passRetained(sink).toOpaque(),
                                    error: errorSink, log: logSink, metric: metricSink, get_extension: noExtension))
        var made: UnsafeMutableRawPointer?
        let keys = resolved.map { strdup($0.key) }, values = resolved.map { strdup($0.value) }
        defer { (keys + values).forEach { free($0) } }
        let status = keys.map { UnsafePointer($0) }.withUnsafeBufferPointer { k in
            values.map { UnsafePointer($0) }.withUnsafeBufferPointer { v in
                PluginCallRecord.during(descriptor, "create") {
                    descriptor.raw.create!(descriptor.pointer, host, UInt32(resolved.count), k.baseAddress, v.baseAddress, &made)
                }
            }
        }
        guard status == WB_OK else {
            let error = Self.failure("create", status: status, messages: sink.messages, descriptor: descriptor)
            Unmanaged.passUnretained(sink).release()
            host.deallocate()
            throw error
        }
        self.sink = sink
        self.host = host
        handle = made
    }

    deinit {
        PluginCallRecord.during(descriptor, "destroy") { descriptor.raw.destroy!(handle) }
        Unmanaged.passUnretained(sink).release()
        host.deallocate()
    }

    /// Runs one call into the plugin; a nonzero status becomes an error with the plugin's
    /// messages, naming the plugin and the call. The call is recorded while it runs
    /// (PluginCallRecord), so a hang or a crash inside it can be reported by name.
    func call(_ name: String, _ body: () -> wb_status) throws {
        sink.messages.removeAll(keepingCapacity: true)
        let status = PluginCallRecord.during(descriptor, name, body)
        guard status == WB_OK else {
            throw Self.failure(name, status: status, messages: sink.messages, descriptor: descriptor)
        }
    }

    /// Throws when an output holds NaN or Inf, naming the plugin, the call, the output and the
    /// first bad index: a non-finite value would otherwise surface many steps later as a NaN loss
    /// with no hint of where it came from.
    func checkFinite(_ values: UnsafePointer<Float>, count: Int, call: String, output: String) throws {
        for i in 0..<count where !values[i].isFinite {
            throw descriptor.error("\(call) wrote \(values[i].isNaN ? "NaN" : values[i] > 0 ? "+Inf" : "-Inf") into \(output)[\(i)]",
                                   remedy: "the plugin's \(call) has a numerical bug (division by zero, log of 0, overflow?)")
        }
    }

    static func failure(_ call: String, status: wb_status, messages: [String], descriptor: PluginDescriptor) -> PluginError {
        let code = statusName(status)
        if messages.isEmpty {
            return descriptor.error("\(call) failed with \(code) and gave no message",
                                    remedy: "report it through host->error before returning an error status")
        }
        return descriptor.error("\(call) failed with \(code): \(messages.joined(separator: "; "))")
    }

    static func statusName(_ status: wb_status) -> String {
        switch Int(status) {
        case WB_ERROR: "WB_ERROR"
        case WB_ERROR_INVALID_ARGUMENT: "WB_ERROR_INVALID_ARGUMENT"
        case WB_ERROR_CONFIG: "WB_ERROR_CONFIG"
        case WB_ERROR_OUT_OF_MEMORY: "WB_ERROR_OUT_OF_MEMORY"
        case WB_ERROR_UNSUPPORTED: "WB_ERROR_UNSUPPORTED"
        default: "status \(status)"
        }
    }
}
