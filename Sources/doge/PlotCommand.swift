import ArgumentParser
import Foundation
import DogeTraining

struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw loss and learning rate of a training run (RUN_DIR/metrics.jsonl) as RUN_DIR/loss.svg."
    )

    @Argument(help: "A doge train output directory.") var runDirectory: String
    @Option(name: .long, help: "Where to write the SVG (default RUN_DIR/loss.svg).") var output: String?

    func run() throws {
        let dir = URL(fileURLWithPath: runDirectory)
        let out = output.map { URL(fileURLWithPath: $0) } ?? dir.appendingPathComponent("loss.svg")
        try PlotSVG.write(metrics: dir.appendingPathComponent("metrics.jsonl"), to: out)
        print(out.path)
    }
}
