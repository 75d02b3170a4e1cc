import Foundation

/// Draws loss (with eval loss) and learning rate against step from metrics.jsonl as one SVG.
public enum PlotSVG {
    public static func write(metrics: URL, to output: URL) throws {
        guard let text = try? String(contentsOf: metrics, encoding: .utf8) else {
            throw TrainingError.data("\(metrics.path): cannot read metrics")
        }
        var loss: [Int: Double] = [:], lr: [Int: Double] = [:], eval: [Int: Double] = [:]
        for line in text.split(separator: "\n") {
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let step = o["step"] as? Int else { continue }
            if let v = o["loss"] as? Double { loss[step] = v }
            if let v = o["learning_rate"] as? Double { lr[step] = v }
            if let v = o["eval_loss"] as? Double { eval[step] = v }
        }
        guard !loss.isEmpty else { throw TrainingError.data("\(metrics.path): no loss records to plot") }
        let svg = render(loss: loss, eval: eval, lr: lr)
        try Data(svg.utf8).write(to: output, options: .atomic)
    }

    static func render(loss: [Int: Double], eval: [Int: Double], lr: [Int: Double]) -> String {
        let width = 900.0, height = 360.0, panel = 400.0, top = 40.0, plotHeight = 260.0
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        func chart(_ x0: Double, _ title: String, _ series: [([Int: Double], String)]) {
            let points = series.flatMap { $0.0 }
            let steps = points.map(\.key), values = points.map(\.value).filter(\.isFinite)
            guard let minStep = steps.min(), let maxStep = steps.max(), let lo = values.min(), let hi = values.max() else { return }
            let left = x0 + 60, w = panel - 70
            let span = hi > lo ? hi - lo : max(abs(hi), 1e-12)
            func px(_ step: Int) -> Double { left + (maxStep > minStep ? Double(step - minStep) / Double(maxStep - minStep) : 0.5) * w }
            func py(_ v: Double) -> Double { top + plotHeight - (v - lo) / span * plotHeight }
            s += "<text x=\"\(left)\" y=\"24\" font-size=\"14\">\(title)</text>\n"
            s += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(w)\" height=\"\(plotHeight)\" fill=\"none\" stroke=\"#999\"/>\n"
            for k in 0...4 {
                let v = lo + span * Double(k) / 4
                s += "<text x=\"\(left - 4)\" y=\"\(py(v) + 4)\" text-anchor=\"end\">\(String(format: "%.3g", v))</text>\n"
            }
            s += "<text x=\"\(left)\" y=\"\(top + plotHeight + 16)\">\(minStep)</text>"
            s += "<text x=\"\(left + w)\" y=\"\(top + plotHeight + 16)\" text-anchor=\"end\">step \(maxStep)</text>\n"
            for (data, color) in series where !data.isEmpty {
                let path = data.keys.sorted().filter { data[$0]!.isFinite }
                    .map { String(format: "%.1f,%.1f", px($0), py(data[$0]!)) }.joined(separator: " ")
                s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(path)\"/>\n"
            }
        }
        chart(0, eval.isEmpty ? "training loss" : "training loss (blue), eval loss (orange)", [(loss, "#1f77b4"), (eval, "#ff7f0e")])
        chart(panel + 40, "learning rate", [(lr, "#2ca02c")])
        return s + "</svg>\n"
    }
}
