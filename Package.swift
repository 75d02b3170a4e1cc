// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swift-doge",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "doge", targets: ["doge"]),
        .library(name: "DogeKernels", targets: ["DogeKernels"]),
        .library(name: "DogeModel", targets: ["DogeModel"]),
        .library(name: "DogeTokenizers", targets: ["DogeTokenizers"]),
        .library(name: "DogeJinja", targets: ["DogeJinja"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Hot SIMD kernels in C: per-function target attributes + run-time CPU dispatch, no build flags.
        .target(name: "CDogeKernels"),
        .target(name: "DogeKernels", dependencies: ["CDogeKernels"]),
        .target(name: "DogeModel", dependencies: ["DogeKernels"]),
        .target(name: "DogeJinja"),
        .target(name: "DogeTokenizers", dependencies: ["DogeJinja"]),
        .executableTarget(
            name: "doge",
            dependencies: [
                "DogeKernels", "DogeModel", "DogeTokenizers", "DogeJinja",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "DogeKernelsTests", dependencies: ["DogeKernels"]),
        .testTarget(name: "DogeModelTests", dependencies: ["DogeModel"]),
        .testTarget(name: "DogeTokenizersTests", dependencies: ["DogeTokenizers"]),
        .testTarget(name: "DogeJinjaTests", dependencies: ["DogeJinja"]),
    ]
)
