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
        .library(name: "DogeGeneration", targets: ["DogeGeneration"]),
        .library(name: "DogeTraining", targets: ["DogeTraining"]),
        .library(name: "DogeHub", targets: ["DogeHub"]),
        .library(name: "DogePostTraining", targets: ["DogePostTraining"]),
        .library(name: "DogeEval", targets: ["DogeEval"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // Hot SIMD kernels in C: per-function target attributes + run-time CPU dispatch, no build flags.
        .target(name: "CDogeKernels"),
        .target(name: "DogeKernels", dependencies: ["CDogeKernels"]),
        // The one JSON parser: ordered, exact documents that each module converts to its own values.
        .target(name: "DogeJSON"),
        .target(name: "DogeModel", dependencies: ["DogeKernels", "DogeJSON"]),
        .target(name: "DogeJinja", dependencies: ["DogeJSON"]),
        .target(name: "DogeTokenizers", dependencies: ["DogeJinja", "DogeJSON"]),
        .target(name: "DogeGeneration", dependencies: ["DogeModel", "DogeTokenizers"]),
        .target(name: "DogeTraining", dependencies: ["DogeModel", "DogeTokenizers", .product(name: "Yams", package: "Yams")]),
        // Hugging Face Hub names: the cache layout and downloads.
        .target(name: "CDogeHub"),
        .target(name: "DogeHub", dependencies: ["CDogeHub", "DogeJSON"]),
        .target(name: "DogePostTraining", dependencies: ["DogeModel", "DogeTokenizers", "DogeJinja", "DogeGeneration", "DogeTraining"]),
        .target(name: "DogeEval", dependencies: ["DogeModel", "DogeTokenizers", "DogeJinja", "DogeGeneration", .product(name: "Yams", package: "Yams")]),
        .executableTarget(
            name: "doge",
            dependencies: [
                "DogeKernels", "DogeModel", "DogeTokenizers", "DogeJinja", "DogeGeneration", "DogeTraining", "DogeHub",
                "DogePostTraining", "DogeEval",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "DogeKernelsTests", dependencies: ["DogeKernels"]),
        .testTarget(name: "DogeModelTests", dependencies: ["DogeModel"], exclude: ["Fixtures"]),
        .testTarget(name: "DogeTokenizersTests", dependencies: ["DogeTokenizers"], exclude: ["Fixtures"]),
        .testTarget(name: "DogeJSONTests", dependencies: ["DogeJSON"]),
        .testTarget(name: "DogeJinjaTests", dependencies: ["DogeJinja"], exclude: ["Fixtures"]),
        .testTarget(name: "DogeGenerationTests", dependencies: ["DogeGeneration"], exclude: ["Fixtures"]),
        .testTarget(name: "DogeTrainingTests", dependencies: ["DogeTraining"], exclude: ["Fixtures"]),
        .testTarget(name: "DogeHubTests", dependencies: ["DogeHub", "DogeModel"]),
        .testTarget(name: "DogePostTrainingTests", dependencies: ["DogePostTraining"], exclude: ["Fixtures"]),
        .testTarget(name: "DogeEvalTests", dependencies: ["DogeEval", "DogeJinja"], exclude: ["Fixtures"]),
        // Runs the built `doge` binary (built with the tests by `swift test`): exit codes and messages.
        .testTarget(name: "DogeCLITests"),
    ]
)
