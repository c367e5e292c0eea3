import PluginHeaderText

/// The SwiftPM package `plugin new --lang swift` writes: the header as a system-library module
/// (a copy plus a module map, so the package builds without the workbench repository), the
/// plugin target, and a dynamic-library product linked without a RUNPATH into the toolchain.
/// The kind's file holds the plugin; the others are the same for every kind.
struct SwiftPluginTemplate {
    let scaffold: PluginScaffold
    init(_ scaffold: PluginScaffold) { self.scaffold = scaffold }

    var name: String { scaffold.name.text }
    /// The plugin target: "my-reward" → MyRewardPlugin. The suffix keeps it clear of module names
    /// a short name would hit (Glibc, Swift, Foundation).
    var module: String { scaffold.name.upperCamel + "Plugin" }

    var files: [PluginScaffold.File] {
        var files: [PluginScaffold.File] = [
            .init("Package.swift", package),
            .init("Sources/WorkbenchPluginABI/module.modulemap", moduleMap),
            .init("Sources/WorkbenchPluginABI/workbench_plugin.h", bytes: PluginHeaderText.bytes),
            .init("Sources/\(module)/WB.swift", constants),
            .init("Sources/\(module)/Support.swift", support),
            .init("Sources/\(module)/Entry.swift", entry),
            .init(".gitignore", ".build/\n.swiftpm/\n"),
            .init("README.md", PluginReadmeTemplate(scaffold).text),
        ]
        switch scaffold.kind {
        case .reward:
            files.append(.init("Sources/\(module)/Reward.swift", reward))
            files.append(.init("Sources/\(module)/AnswerLine.swift", answerLine))
        case .pooling: files.append(.init("Sources/\(module)/Pooling.swift", pooling))
        case .contrastive: files.append(.init("Sources/\(module)/Contrastive.swift", contrastive))
        }
        return files
    }

    var package: String {
        #"""
        // swift-tools-version: 5.9
        import PackageDescription

        // \#(name): a workbench \#(scaffold.kind.rawValue) plugin. `swift build -c release` makes
        // .build/release/lib\#(name).so; see README.md.
        let package = Package(
            name: "\#(name)",
            products: [
                // A shared library the workbench loads with dlopen; nothing links it.
                .library(name: "\#(name)", type: .dynamic, targets: ["\#(module)"]),
            ],
            targets: [
                // include/workbench_plugin.h of the workbench that wrote this package, as a C module.
                .systemLibrary(name: "WorkbenchPluginABI", path: "Sources/WorkbenchPluginABI"),
                .target(
                    name: "\#(module)",
                    dependencies: ["WorkbenchPluginABI"],
                    // swiftc records the toolchain's runtime folder as a RUNPATH by default. The host
                    // that loads this library has the Swift runtime loaded already, so the library
                    // needs none and should not depend on where this toolchain is installed.
                    linkerSettings: [.unsafeFlags(["-no-toolchain-stdlib-rpath"])]
                ),
            ]
        )

        """#
    }

    var moduleMap: String {
        #"""
        module WorkbenchPluginABI [system] {
            header "workbench_plugin.h"
            export *
        }

        """#
    }

    /// Typed copies of the header's enum constants.
    var constants: String {
        #"""
        import WorkbenchPluginABI

        /// The header's enum constants, typed as the fields and results that take them. Swift imports
        /// a C enum constant as Int, which would need a cast at every use (wb_status(WB_OK)); the
        /// values and the C ABI are the header's.
        enum WB {
            static let abiMajor = UInt32(WB_ABI_MAJOR)
            static let abiMinor = UInt32(WB_ABI_MINOR)

            // wb_status
            static let ok = wb_status(WB_OK)
            static let error = wb_status(WB_ERROR)
            static let invalidArgument = wb_status(WB_ERROR_INVALID_ARGUMENT)
            static let configError = wb_status(WB_ERROR_CONFIG)
            static let outOfMemory = wb_status(WB_ERROR_OUT_OF_MEMORY)
            static let unsupported = wb_status(WB_ERROR_UNSUPPORTED)

            // wb_plugin_descriptor.kind
            static let kindReward = UInt32(WB_KIND_REWARD)
            static let kindPooling = UInt32(WB_KIND_POOLING)
            static let kindContrastive = UInt32(WB_KIND_CONTRASTIVE)

            // wb_config_key.type
            static let configBool = UInt32(WB_CONFIG_BOOL)
            static let configInt = UInt32(WB_CONFIG_INT)
            static let configFloat = UInt32(WB_CONFIG_FLOAT)
            static let configString = UInt32(WB_CONFIG_STRING)

            // wb_contrastive_functions.view_source
            static let viewRollout = UInt32(WB_VIEW_ROLLOUT)
            static let viewAnnotated = UInt32(WB_VIEW_ANNOTATED)

            // wb_pooling_functions.flags
            static let poolingUsesValues = UInt32(WB_POOLING_USES_VALUES)

            // wb_host.log levels
            static let logDebug = Int32(WB_LOG_DEBUG)
            static let logInfo = Int32(WB_LOG_INFO)
            static let logWarning = Int32(WB_LOG_WARNING)
            static let logError = Int32(WB_LOG_ERROR)
        }

        """#
    }

    var support: String {
        #"""
        import WorkbenchPluginABI

        /// A failure inside the plugin: the status the call returns and the message for the host's
        /// error sink. Nothing may unwind into the host, so every function it calls catches these.
        struct PluginFailure: Error {
            var status: wb_status
            var message: String

            init(_ status: wb_status, _ message: String) {
                self.status = status
                self.message = message
            }
        }

        /// The config create received, by key. The host passes every declared key with its default
        /// filled in and each value already checked against its type; ranges are left to the plugin.
        struct Config {
            private var values: [String: String] = [:]

            init(_ count: UInt32, _ keys: UnsafePointer<UnsafePointer<CChar>?>?, _ values: UnsafePointer<UnsafePointer<CChar>?>?) {
                for i in 0..<Int(count) {
                    if let key = keys?[i], let value = values?[i] { self.values[String(cString: key)] = String(cString: value) }
                }
            }

            func string(_ key: String) throws -> String {
                guard let value = values[key] else { throw PluginFailure(WB.configError, "the config has no key '\(key)'") }
                return value
            }

            func double(_ key: String) throws -> Double {
                let text = try string(key)
                guard let value = Double(text) else { throw PluginFailure(WB.configError, "config key '\(key)' is '\(text)', not a number") }
                return value
            }
        }

        // The library's static data (descriptor, keys, strings) must live until the process exits
        // (the host never unloads a library), so it is allocated once and never freed.

        func forever<T>(_ value: T) -> UnsafePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: 1)
            p.initialize(to: value)
            return UnsafePointer(p)
        }

        func forever<T>(_ values: [T]) -> UnsafePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(1, values.count))
            p.initialize(from: values, count: values.count)
            return UnsafePointer(p)
        }

        func cString(_ text: String) -> UnsafePointer<CChar> {
            forever(Array(text.utf8CString))
        }

        func configKey(_ type: UInt32, _ name: String, default value: String, _ help: String, choices: String? = nil) -> UnsafePointer<wb_config_key>? {
            forever(wb_config_key(struct_size: UInt32(MemoryLayout<wb_config_key>.size), type: type, name: cString(name),
                                  default_value: cString(value), help: cString(help), choices: choices.map(cString)))
        }

        /// An instance as the host holds it: an object retained behind an opaque pointer by create
        /// and released by destroy.
        protocol PluginInstance: AnyObject {
            /// The host side of the instance; alive until destroy returns.
            var host: UnsafePointer<wb_host> { get }
        }

        extension PluginInstance {
            /// A named scalar for the run's metrics: `workbench rl` writes it into metrics.jsonl as
            /// plugin/<name>.
            func metric(_ name: String, _ value: Double) {
                name.withCString { host.pointee.metric?(host, $0, value) }
            }
        }

        func report(_ host: UnsafePointer<wb_host>, _ message: String) {
            message.withCString { host.pointee.error?(host, $0) }
        }

        /// create's body: makes the instance from its config, or reports why it cannot.
        func create<T: PluginInstance>(_ host: UnsafePointer<wb_host>?, _ count: UInt32,
                                       _ keys: UnsafePointer<UnsafePointer<CChar>?>?, _ values: UnsafePointer<UnsafePointer<CChar>?>?,
                                       _ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                       _ make: (Config, UnsafePointer<wb_host>) throws -> T) -> wb_status {
            guard let host, let out else { return WB.invalidArgument }
            do {
                out.pointee = Unmanaged.passRetained(try make(Config(count, keys, values), host)).toOpaque()
                return WB.ok
            } catch let failure as PluginFailure {
                report(host, failure.message)
                return failure.status
            } catch {
                report(host, "\(error)")
                return WB.error
            }
        }

        func destroy<T: PluginInstance>(_ instance: UnsafeMutableRawPointer?, as type: T.Type) {
            if let instance { Unmanaged<T>.fromOpaque(instance).release() }
        }

        /// A kind function's body, run on the instance behind `instance`: a thrown PluginFailure
        /// becomes the status returned and the message reported.
        func call<T: PluginInstance>(_ instance: UnsafeRawPointer?, as type: T.Type, _ body: (T) throws -> Void) -> wb_status {
            guard let instance else { return WB.invalidArgument }
            let object = Unmanaged<T>.fromOpaque(instance).takeUnretainedValue()
            do {
                try body(object)
                return WB.ok
            } catch let failure as PluginFailure {
                report(object.host, failure.message)
                return failure.status
            } catch {
                report(object.host, "\(error)")
                return WB.error
            }
        }

        """#
    }

    var entry: String {
        #"""
        import WorkbenchPluginABI

        /// The table the entry returns: built on first use, never freed.
        let library = forever(wb_library(struct_size: UInt32(MemoryLayout<wb_library>.size), abi_major: WB.abiMajor,
                                         abi_minor: WB.abiMinor, plugin_count: 1, plugins: forever([Optional(descriptor)])))

        /// The symbol the host looks up with dlsym; `public`, or an optimised build drops it. The host
        /// refuses libraries of another major version itself, so `info` needs no check here.
        @_cdecl("workbench_plugin_entry_v1")
        public func workbenchPluginEntryV1(_ info: UnsafePointer<wb_host_info>?) -> UnsafePointer<wb_library>? {
            library
        }

        """#
    }

    /// The descriptor every kind's file ends with.
    func descriptor(kind: String, type: String, summary: String, functions: String) -> String {
        #"""
        let descriptor = forever(wb_plugin_descriptor(
            struct_size: UInt32(MemoryLayout<wb_plugin_descriptor>.size), abi_major: WB.abiMajor, abi_minor: WB.abiMinor,
            kind: \#(kind), id: cString("\#(scaffold.id)"), version: cString("0.1.0"),
            summary: cString("\#(summary)"),
            config_key_count: UInt32(\#(type).keys.count), reserved: 0, config_keys: forever(\#(type).keys),
            create: { _, host, count, keys, values, out in
                create(host, count, keys, values, out) { config, host in try \#(type)(config, host: host) }
            },
            destroy: { destroy($0, as: \#(type).self) },
            functions: UnsafeRawPointer(forever(\#(functions))),
            get_extension: nil))

        """#
    }

    // MARK: reward

    var reward: String {
        #"""
        import WorkbenchPluginABI

        /// \#(scaffold.id): 1 when the number on the completion's answer line is within `tolerance`
        /// of the gold answer, `partial` for any other number, 0 without an answer line (the header's
        /// READING THE ANSWER). Change `score(answer:gold:)` to try your own rule (`score(_:into:)`
        /// has each completion's text), and keep wrong answers below 1 (THE REWARD SCALE).
        final class Reward: PluginInstance {
            static let keys = [
                configKey(WB.configFloat, "partial", default: "0.1", "reward for a readable but wrong number (0 <= partial < 1: a reward >= 1 means correct)"),
                configKey(WB.configFloat, "tolerance", default: "0.01", "largest |answer - gold| counted correct (the host's evaluation uses 0.01)"),
            ]

            let host: UnsafePointer<wb_host>
            let partial: Float
            let tolerance: Double

            init(_ config: Config, host: UnsafePointer<wb_host>) throws {
                self.host = host
                let partial = try config.double("partial"), tolerance = try config.double("tolerance")
                guard partial >= 0 && partial < 1 else {
                    throw PluginFailure(WB.configError, "partial is \(partial); it must be >= 0 and < 1, since a reward >= 1 means correct")
                }
                guard tolerance >= 0 else { throw PluginFailure(WB.configError, "tolerance is \(tolerance); it must be >= 0") }
                self.partial = Float(partial)
                self.tolerance = tolerance
            }

            /// The reward of a completion whose answer line reads `answer` (nil: it has none).
            func score(answer: Double?, gold: Double) -> Float {
                guard let answer else { return 0 }
                return abs(answer - gold) <= tolerance ? 1 : partial
            }

            func score(_ batch: wb_reward_batch, into out: UnsafeMutablePointer<Float>) throws {
                guard let completions = batch.completions, let golds = batch.gold_values else {
                    throw PluginFailure(WB.invalidArgument, "score got NULL completions or gold_values")
                }
                let count = Int(batch.count)
                var answered = 0
                for i in 0..<count {
                    guard let completion = completions[i] else { throw PluginFailure(WB.invalidArgument, "score got a NULL completions[\(i)]") }
                    let answer = AnswerLine.number(in: String(cString: completion))
                    if answer != nil { answered += 1 }
                    out[i] = score(answer: answer, gold: golds[i])
                }
                // In `workbench rl`'s metrics.jsonl as plugin/\#(name)/answered.
                metric("\#(name)/answered", Double(answered) / Double(max(1, count)))
            }
        }


        """# + descriptor(kind: "WB.kindReward", type: "Reward",
                         summary: "1 for a correct answer (within tolerance), partial for another number, 0 without an answer line",
                         functions: #"""
        wb_reward_functions(
                struct_size: UInt32(MemoryLayout<wb_reward_functions>.size),
                score: { instance, batch, out in
                    call(instance, as: Reward.self) { reward in
                        guard let batch, let out else { throw PluginFailure(WB.invalidArgument, "score got a NULL batch or out_rewards") }
                        try reward.score(batch.pointee, into: out)
                    }
                })
        """#)
    }

    var answerLine: String {
        #"""
        /// Reads a completion's answer as the host does (the header's READING THE ANSWER): the first
        /// number on the line after the last "\nTherefore, the answer is: ", or after that marker at
        /// the very start. Works on the UTF-8 bytes, so it needs no Foundation.
        enum AnswerLine {
            static let marker = Array("Therefore, the answer is: ".utf8)

            /// The answer, or nil when the completion has no answer line or no number on it.
            static func number(in completion: String) -> Double? {
                let text = Array(completion.utf8)
                guard let start = lineStart(text) else { return nil }
                return firstNumber(text, from: start)
            }

            /// Where the text after the last "\n" + marker, or after the marker at the very start, begins.
            static func lineStart(_ s: [UInt8]) -> Int? {
                func isMarker(at i: Int) -> Bool { i + marker.count <= s.count && s[i..<(i + marker.count)].elementsEqual(marker) }
                var start: Int? = isMarker(at: 0) ? marker.count : nil
                for i in s.indices where s[i] == UInt8(ascii: "\n") && isMarker(at: i + 1) { start = i + 1 + marker.count }
                return start
            }

            /// The first `[sign] digits [,ddd]* [.digits]` (or `.digits`) on the line starting at
            /// `start`; commas count only in thousands groups after one to three digits. The value is
            /// accumulated in a Double: at worst a few ulps off an exact parse, far inside the 1e-2
            /// tolerance.
            static func firstNumber(_ s: [UInt8], from start: Int) -> Double? {
                func has(_ i: Int, _ c: Unicode.Scalar) -> Bool { i < s.count && s[i] == UInt8(ascii: c) }
                func digit(_ i: Int) -> Bool { i < s.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(s[i]) }
                func value(_ i: Int) -> Double { Double(s[i] - UInt8(ascii: "0")) }
                var i = start
                while i < s.count && !has(i, "\n") {
                    var j = i, sign = 1.0
                    if (has(i, "-") || has(i, "+")) && (digit(i + 1) || (has(i + 1, ".") && digit(i + 2))) {
                        sign = has(i, "-") ? -1 : 1
                        j += 1
                    }
                    var x = 0.0, digits = 0, fraction = 0
                    while digit(j) { x = x * 10 + value(j); j += 1; digits += 1 }
                    if (1...3).contains(digits) {
                        while has(j, ","), digit(j + 1), digit(j + 2), digit(j + 3), !digit(j + 4) {
                            x = x * 1000 + value(j + 1) * 100 + value(j + 2) * 10 + value(j + 3)
                            j += 4
                        }
                    }
                    if has(j, "."), digit(j + 1) {
                        var scale = 0.1
                        j += 1
                        while digit(j) { x += value(j) * scale; scale /= 10; j += 1; fraction += 1 }
                    }
                    if digits > 0 || fraction > 0 { return sign * x }
                    i += 1
                }
                return nil
            }
        }

        """#
    }

    // MARK: pooling

    var pooling: String {
        #"""
        import WorkbenchPluginABI

        /// \#(scaffold.id): each sequence's masked token embeddings pooled into one embedding, their
        /// mean (or, with reduction=sum, their sum). It does not read the value head's outputs, so
        /// its gradient with respect to them is zero. Change `forward` and `backward` together:
        /// backward must stay the exact gradient of forward, which `plugin check` compares with
        /// finite differences.
        final class Pooling: PluginInstance {
            static let keys = [
                configKey(WB.configString, "reduction", default: "mean", "mean of the pooled tokens' embeddings, or their sum", choices: "mean|sum"),
            ]

            let host: UnsafePointer<wb_host>
            let sum: Bool

            init(_ config: Config, host: UnsafePointer<wb_host>) throws {
                self.host = host
                // The host has already restricted reduction to its choices.
                sum = try config.string("reduction") == "sum"
            }

            /// The factor every pooled token of row r gets: 1/n for the mean of n tokens, 1 for the
            /// sum, and 0 for a row that pools nothing (a zero embedding with zero gradient).
            func weight(_ mask: UnsafePointer<UInt8>, row r: Int, tokens: Int) -> Float {
                let n = (0..<tokens).filter { mask[r * tokens + $0] != 0 }.count
                if n == 0 { return 0 }
                return sum ? 1 : 1 / Float(n)
            }

            func forward(_ b: wb_pooling_batch, into out: UnsafeMutablePointer<Float>) throws {
                guard let x = b.token_embeddings, let mask = b.mask else {
                    throw PluginFailure(WB.invalidArgument, "forward got NULL token_embeddings or mask")
                }
                let (batch, tokens, dim) = (Int(b.batch), Int(b.tokens), Int(b.dim))
                for r in 0..<batch {
                    let w = weight(mask, row: r, tokens: tokens)
                    let row = out + r * dim
                    row.update(repeating: 0, count: dim)
                    for t in 0..<tokens where mask[r * tokens + t] != 0 {
                        let token = x + (r * tokens + t) * dim
                        for d in 0..<dim { row[d] += token[d] }
                    }
                    for d in 0..<dim { row[d] *= w }
                }
            }

            /// out[r] = w_r · Σ of the masked x[r][t], so ∂out[r]/∂x[r][t] = w_r for a masked token.
            func backward(_ b: wb_pooling_batch, gradOut: UnsafePointer<Float>,
                          gradTokens: UnsafeMutablePointer<Float>?, gradValues: UnsafeMutablePointer<Float>?) throws {
                guard let mask = b.mask else { throw PluginFailure(WB.invalidArgument, "backward got a NULL mask") }
                let (batch, tokens, dim) = (Int(b.batch), Int(b.tokens), Int(b.dim))
                // forward never reads the values.
                gradValues?.update(repeating: 0, count: batch * tokens)
                guard let gradTokens else { return }
                for r in 0..<batch {
                    let w = weight(mask, row: r, tokens: tokens)
                    for t in 0..<tokens {
                        let on: Float = mask[r * tokens + t] != 0 ? w : 0
                        for d in 0..<dim { gradTokens[(r * tokens + t) * dim + d] = on * gradOut[r * dim + d] }
                    }
                }
            }
        }


        """# + descriptor(kind: "WB.kindPooling", type: "Pooling", summary: "masked mean (or sum) of the token embeddings",
                         functions: #"""
        wb_pooling_functions(
                struct_size: UInt32(MemoryLayout<wb_pooling_functions>.size),
                flags: 0, // WB.poolingUsesValues would promise that forward reads batch.values
                forward: { instance, batch, out in
                    call(instance, as: Pooling.self) { pooling in
                        guard let batch, let out else { throw PluginFailure(WB.invalidArgument, "forward got a NULL batch or out") }
                        try pooling.forward(batch.pointee, into: out)
                    }
                },
                backward: { instance, batch, gradOut, gradTokens, gradValues in
                    call(instance, as: Pooling.self) { pooling in
                        guard let batch, let gradOut else { throw PluginFailure(WB.invalidArgument, "backward got a NULL batch or grad_out") }
                        try pooling.backward(batch.pointee, gradOut: gradOut, gradTokens: gradTokens, gradValues: gradValues)
                    }
                })
        """#)
    }

    // MARK: contrastive

    var contrastive: String {
        #"""
        import WorkbenchPluginABI

        /// \#(scaffold.id): a cosine-distance loss between two views. For each row whose reward is at
        /// least `min-reward` (the correct rollouts, by default), 1 − cos(annotated CoT, rollout CoT),
        /// averaged over those rows (a mean, as the host expects: the header's REDUCTION); backward
        /// is its exact gradient. Change `forward` and `backward` together: `plugin check` compares
        /// backward with finite differences of forward.
        final class Contrastive: PluginInstance {
            static let keys = [
                configKey(WB.configFloat, "min-reward", default: "1", "rows whose reward is at least this take part (1: the correct rollouts)"),
            ]

            /// View 0: the annotated CoT; view 1: the rollout's CoT.
            static let sources = [WB.viewAnnotated, WB.viewRollout]

            /// An empty view pools to a zero vector, which has no direction: below this norm the
            /// cosine counts as 0 and passes no gradient.
            static let normFloor = 1e-8

            let host: UnsafePointer<wb_host>
            let minReward: Float

            init(_ config: Config, host: UnsafePointer<wb_host>) throws {
                self.host = host
                minReward = Float(try config.double("min-reward"))
            }

            /// Each view is its sequence's CoT tokens; `present` keeps padding out of a view.
            func select(_ b: wb_token_views_batch, into masks: UnsafePointer<UnsafeMutablePointer<UInt8>?>) throws {
                guard let annotated = masks[0], let rollout = masks[1], let aCoT = b.annotated_cot, let aPresent = b.annotated_present,
                      let rCoT = b.rollout_cot, let rPresent = b.rollout_present else {
                    throw PluginFailure(WB.invalidArgument, "select got a NULL mask")
                }
                for i in 0..<(Int(b.batch) * Int(b.annotated_tokens)) { annotated[i] = aCoT[i] != 0 && aPresent[i] != 0 ? 1 : 0 }
                for i in 0..<(Int(b.batch) * Int(b.rollout_tokens)) { rollout[i] = rCoT[i] != 0 && rPresent[i] != 0 ? 1 : 0 }
            }

            /// The checked views and the rows taking part (valid, reward ≥ min-reward).
            func participants(_ b: wb_contrastive_batch) throws -> (annotated: UnsafePointer<Float>, rollout: UnsafePointer<Float>, rows: [Int]) {
                guard b.view_count == 2, let views = b.views, let annotated = views[0], let rollout = views[1],
                      let rewards = b.rewards, let valid = b.valid else {
                    throw PluginFailure(WB.invalidArgument, "the batch must hold 2 views, rewards and valid")
                }
                return (annotated, rollout, (0..<Int(b.batch)).filter { valid[$0] != 0 && rewards[$0] >= minReward })
            }

            /// cos(x, y) and both norms; the cosine is 0 when either norm is below the floor.
            static func cosine(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dim: Int) -> (cos: Double, nx: Double, ny: Double) {
                var xy = 0.0, xx = 0.0, yy = 0.0
                for d in 0..<dim {
                    xy += Double(x[d]) * Double(y[d])
                    xx += Double(x[d]) * Double(x[d])
                    yy += Double(y[d]) * Double(y[d])
                }
                let (nx, ny) = (xx.squareRoot(), yy.squareRoot())
                return (nx < normFloor || ny < normFloor ? 0 : xy / (nx * ny), nx, ny)
            }

            /// L = (1/n) Σ over the n rows taking part of (1 − cos(a_i, r_i)); 0 when n is 0.
            func forward(_ b: wb_contrastive_batch) throws -> Double {
                let (a, r, rows) = try participants(b)
                let dim = Int(b.dim)
                let total = rows.reduce(0.0) { $0 + 1 - Self.cosine(a + $1 * dim, r + $1 * dim, dim).cos }
                // In `workbench rl`'s metrics.jsonl as plugin/\#(name)/rows.
                metric("\#(name)/rows", Double(rows.count))
                return rows.isEmpty ? 0 : total / Double(rows.count)
            }

            /// ∂cos(a, r)/∂a = r / (|a| |r|) − cos · a / |a|² (and the same with a and r swapped),
            /// times ∂L/∂cos = −gradLoss / n. Rows that take no part get zeros.
            func backward(_ b: wb_contrastive_batch, gradLoss: Float, into grads: UnsafePointer<UnsafeMutablePointer<Float>?>) throws {
                let (a, r, rows) = try participants(b)
                let dim = Int(b.dim)
                let (ga, gr) = (grads[0], grads[1])
                ga?.update(repeating: 0, count: Int(b.batch) * dim)
                gr?.update(repeating: 0, count: Int(b.batch) * dim)
                guard !rows.isEmpty else { return }
                let g = -Double(gradLoss) / Double(rows.count)
                for i in rows {
                    let (ai, ri) = (a + i * dim, r + i * dim)
                    let (c, na, nr) = Self.cosine(ai, ri, dim)
                    if na < Self.normFloor || nr < Self.normFloor { continue }
                    for d in 0..<dim {
                        let (x, y) = (Double(ai[d]), Double(ri[d]))
                        ga?[i * dim + d] = Float(g * (y / (na * nr) - c * x / (na * na)))
                        gr?[i * dim + d] = Float(g * (x / (na * nr) - c * y / (nr * nr)))
                    }
                }
            }
        }


        """# + descriptor(kind: "WB.kindContrastive", type: "Contrastive",
                         summary: "mean over correct rollouts of 1 - cos(annotated CoT, rollout CoT)",
                         functions: #"""
        wb_contrastive_functions(
                struct_size: UInt32(MemoryLayout<wb_contrastive_functions>.size), reserved: 0,
                view_count: { _ in UInt32(Contrastive.sources.count) },
                view_source: { _, view in Int(view) < Contrastive.sources.count ? Contrastive.sources[Int(view)] : 0 },
                select: { instance, batch, masks in
                    call(instance, as: Contrastive.self) { loss in
                        guard let batch, let masks else { throw PluginFailure(WB.invalidArgument, "select got a NULL batch or out_masks") }
                        try loss.select(batch.pointee, into: masks)
                    }
                },
                forward: { instance, batch, out in
                    call(instance, as: Contrastive.self) { loss in
                        guard let batch, let out else { throw PluginFailure(WB.invalidArgument, "forward got a NULL batch or out_loss") }
                        out.pointee = try loss.forward(batch.pointee)
                    }
                },
                backward: { instance, batch, gradLoss, grads in
                    call(instance, as: Contrastive.self) { loss in
                        guard let batch, let grads else { throw PluginFailure(WB.invalidArgument, "backward got a NULL batch or grad_views") }
                        try loss.backward(batch.pointee, gradLoss: gradLoss, into: grads)
                    }
                })
        """#)
    }
}
