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
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
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
        // `doge serve`: the OpenAI-compatible HTTP server, its chat page and conversation store.
        .target(
            name: "DogeServer",
            dependencies: [
                "DogeModel", "DogeTokenizers", "DogeGeneration", "DogeJSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        // Hugging Face Hub names: the cache layout and downloads.
        .target(name: "CDogeHub"),
        .target(name: "DogeHub", dependencies: ["CDogeHub", "DogeJSON"]),
        .target(name: "DogePostTraining", dependencies: ["DogeModel", "DogeTokenizers", "DogeJinja", "DogeGeneration", "DogeTraining"]),
        .target(name: "DogeEval", dependencies: ["DogeModel", "DogeTokenizers", "DogeJinja", "DogeGeneration", .product(name: "Yams", package: "Yams")]),
        .executableTarget(
            name: "doge",
            dependencies: [
                "DogeKernels", "DogeModel", "DogeTokenizers", "DogeJinja", "DogeGeneration", "DogeTraining", "DogeHub",
                "DogePostTraining", "DogeEval", "DogeServer",
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
        .testTarget(
            name: "DogeServerTests",
            dependencies: ["DogeServer", .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
        .testTarget(name: "DogeHubTests", dependencies: ["DogeHub", "DogeModel"]),
        .testTarget(name: "DogePostTrainingTests", dependencies: ["DogePostTraining"], exclude: ["Fixtures"]),
        .testTarget(name: "DogeEvalTests", dependencies: ["DogeEval", "DogeJinja"], exclude: ["Fixtures"]),
        // Runs the built `doge` binary (built with the tests by `swift test`): exit codes and messages.
        .testTarget(name: "DogeCLITests"),
    ]
)
