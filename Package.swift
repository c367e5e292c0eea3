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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // OpenBLAS from Debian's libopenblas-dev; every matrix product in the Engine goes through it.
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        .target(
            name: "Engine",
            dependencies: ["COpenBLAS"],
            path: "Sources/Engine",
            swiftSettings: fastMath
        ),
        .executableTarget(
            name: "Host",
            dependencies: [
                "Engine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/Host"
        ),
        .testTarget(
            name: "EngineTests",
            dependencies: ["Engine"],
            path: "Tests/EngineTests"
        ),
    ],
    swiftLanguageModes: [.v5]
)
