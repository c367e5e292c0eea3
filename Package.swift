// swift-tools-version: 6.0
import PackageDescription

// Release builds drop exclusivity checks: the kernels alias flat float buffers on purpose
// and the checks cost more than the arithmetic in the inner loops.
let fastMath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"])]

let package = Package(
    name: "workbench",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "workbench", targets: ["Host"]),
        .library(name: "Engine", targets: ["Engine"]),
        // The example Swift plugin; the host never links it, it loads it with dlopen.
        .library(name: "negsignal", type: .dynamic, targets: ["NegSignal"]),
        // The built-in plugins as a plugin library (libworkbench_builtins.so) for other hosts, such
        // as the Python bridge in python/. Unlike negsignal it keeps the toolchain's RUNPATH: a
        // Python process has no Swift runtime loaded.
        .library(name: "workbench_builtins", type: .dynamic, targets: ["BuiltinsLibrary"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // OpenBLAS from Debian's libopenblas-dev; every matrix product in the Engine goes through it.
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        // oneDNN from Debian's libdnnl-dev: products with frozen weights held in bf16 (BF16GEMM),
        // which OpenBLAS 0.3.21 cannot do.
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        // libffi from Debian's libffi-dev: calls a plain C reward function named on the command line.
        .systemLibrary(name: "CFFI", path: "Sources/CFFI"),
        // The plugin ABI header (include/workbench_plugin.h) as a module, nothing else.
        .target(name: "PluginABI", path: "Sources/PluginABI"),
        // The header's text, compiled in for `workbench plugin new`; a module of its own so its
        // large byte literal recompiles only when the header changes, not with every Host edit.
        .target(name: "PluginHeaderText", path: "Sources/PluginHeaderText", resources: [.embedInCode("workbench_plugin.h")]),
        // The plugin call in progress, in C so a watchdog thread and a crash signal handler can
        // read it (async-signal-safe); PluginHost records its calls, the host reports a hang or a crash.
        .target(name: "CallWatch", path: "Sources/CallWatch"),
        // int8 weight products with AVX-512 VNNI, in C for the intrinsics (Int8Base): decoding
        // reads a quarter of float32's weight bytes.
        .target(name: "Int8Kernels", path: "Sources/Int8Kernels"),
        // The elementwise loops with e^x in them (SwiGLU, softmax), in C with AVX-512 where the
        // CPU has it: Swift, compiling for generic x86-64, left them one float at a time.
        .target(name: "VectorKernels", path: "Sources/VectorKernels"),
        // The papers' prompt and answer layout and answer checking, shared by the Engine (targets,
        // evaluation) and the built-in rewards, which must agree on it byte for byte.
        .target(name: "AnswerFormat", path: "Sources/AnswerFormat"),
        // The host side of the plugin ABI: reading a plugin's descriptor, creating instances with
        // their config, calling them (each call watched, every output checked finite). The Engine
        // calls plugins only through it.
        .target(
            name: "PluginHost",
            dependencies: ["PluginABI", "CallWatch", "AnswerFormat"],
            path: "Sources/PluginHost",
            swiftSettings: fastMath
        ),
        .target(
            name: "Engine",
            dependencies: ["COpenBLAS", "CDNNL", "Int8Kernels", "VectorKernels", "PluginHost", "AnswerFormat"],
            path: "Sources/Engine",
            swiftSettings: fastMath
        ),
        // The stock reward, pooling and contrastive-loss plugins, behind the same descriptors as
        // loaded ones. They see the host only through the ABI, as a loaded plugin does.
        .target(
            name: "BuiltinPlugins",
            dependencies: ["PluginABI", "AnswerFormat"],
            path: "Sources/BuiltinPlugins",
            swiftSettings: fastMath
        ),
        .target(
            name: "NegSignal",
            dependencies: ["PluginABI"],
            path: "plugins/negsignal/Sources",
            swiftSettings: fastMath,
            // swiftc records the toolchain's runtime folder as a RUNPATH by default; the host
            // that loads the plugin has the Swift runtime loaded already, so the library needs
            // none and must not depend on where this toolchain is installed.
            linkerSettings: [.unsafeFlags(["-no-toolchain-stdlib-rpath"])]
        ),
        .target(
            name: "BuiltinsLibrary",
            dependencies: ["BuiltinPlugins", "PluginABI"],
            path: "Sources/BuiltinsLibrary"
        ),
        .executableTarget(
            name: "Host",
            dependencies: [
                "Engine",
                "BuiltinPlugins",
                "PluginABI",
                "CallWatch",
                "CFFI",
                "PluginHeaderText",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/Host"
        ),
        // Finite-difference gradient checking, shared by the test targets.
        .target(
            name: "TestSupport",
            dependencies: ["Engine", "BuiltinPlugins"],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "EngineTests",
            dependencies: ["Engine", "Int8Kernels", "VectorKernels", "TestSupport"],
            path: "Tests/EngineTests"
        ),
        .testTarget(
            name: "BuiltinPluginsTests",
            dependencies: ["BuiltinPlugins", "Engine", "PluginABI", "TestSupport"],
            path: "Tests/BuiltinPluginsTests"
        ),
        .testTarget(
            name: "HostTests",
            dependencies: ["Host", "Engine", "PluginABI", "PluginHeaderText", "TestSupport"],
            path: "Tests/HostTests",
            // Broken plugins in C, compiled by the tests with cc, not by SwiftPM.
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v5]
)
