import Foundation

/// A group's scores: lm-eval's size-weighted mean of its leaf tasks, with the pooled stderr.
public struct GroupResult: Sendable {
    public var name: String
    public var alias: String?
    public var version: String
    public var depth: Int
    public var leaves: [String]
    public var documents: Int
    public var metrics: [MetricResult]
}

public enum Report {
    public static func groups(_ selection: TaskLibrary.Selection, results: [TaskResult]) -> [GroupResult] {
        let byName = Dictionary(results.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        return selection.groups.map { entry in
            let leaves = entry.leaves.compactMap { byName[$0] }
            var metrics: [MetricResult] = []
            for (metric, weightBySize) in entry.group.aggregate {
                let having = leaves.compactMap { r in r.metrics.first { $0.name == metric }.map { (r, $0) } }
                guard !having.isEmpty else { continue }
                let sizes = having.map { weightBySize ? $0.0.documents : 1 }
                let value = Metrics.weightedBySize(having.map(\.1.value), sizes: sizes)
                var stderr: Double?
                let errs = having.compactMap(\.1.stderr)
                if errs.count == having.count {
                    stderr = weightBySize ? Metrics.pooledStderr(errs, sizes: having.map(\.0.documents))
                        : (errs.reduce(0) { $0 + $1 * $1 }).squareRoot() / Double(errs.count)
                }
                metrics.append(MetricResult(name: metric, value: value, stderr: stderr, higherIsBetter: having[0].1.higherIsBetter))
            }
            return GroupResult(name: entry.group.name, alias: entry.group.alias, version: entry.group.version, depth: entry.depth,
                               leaves: entry.leaves, documents: leaves.reduce(0) { $0 + $1.documents }, metrics: metrics)
        }
    }

    /// A Markdown table like lm-eval's (`|Tasks|Version|Filter|n-shot|Metric| |Value| |Stderr|`).
    public static func table(_ results: [TaskResult], groups: [GroupResult]) -> String {
        var rows: [[String]] = []
        func add(_ name: String, _ version: String, _ filter: String, _ shots: String, _ metrics: [MetricResult]) {
            var first = true
            for m in metrics.sorted(by: { $0.name < $1.name }) {
                rows.append([first ? name : "", first ? version : "", filter, shots, m.name, m.higherIsBetter ? "↑" : "↓",
                             String(format: "%.4f", m.value), m.stderr == nil ? "" : "±", m.stderr.map { String(format: "%.4f", $0) } ?? "   N/A"])
                first = false
            }
        }
        let groupLeaves = Set(groups.flatMap(\.leaves))
        for g in groups {
            add(String(repeating: " ", count: g.depth) + (g.depth > 0 ? "- " : "") + (g.alias ?? g.name), g.version, "none", "", g.metrics)
            for leaf in results where g.leaves.contains(leaf.name) && !groups.contains(where: { $0.depth > g.depth && $0.leaves.contains(leaf.name) }) {
                add(String(repeating: " ", count: g.depth + 1) + "- " + (leaf.alias ?? leaf.name), leaf.version, leaf.filter, String(leaf.numFewshot), leaf.metrics)
            }
        }
        for r in results where !groupLeaves.contains(r.name) {
            add(r.alias ?? r.name, r.version, r.filter, String(r.numFewshot), r.metrics)
        }
        let headers = ["Tasks", "Version", "Filter", "n-shot", "Metric", "", "Value", "", "Stderr"]
        let widths = headers.indices.map { c in max(headers[c].count, rows.map { $0[c].count }.max() ?? 0) }
        func line(_ cells: [String], right: Set<Int>) -> String {
            "|" + cells.enumerated().map { c, s in
                let pad = String(repeating: " ", count: widths[c] - s.count)
                return right.contains(c) ? pad + s : s + pad
            }.joined(separator: "|") + "|"
        }
        var out = line(headers, right: [])
        out += "\n|" + widths.map { String(repeating: "-", count: $0) }.joined(separator: "|") + "|"
        for r in rows { out += "\n" + line(r, right: [1, 3, 6, 8]) }
        return out + "\n"
    }

    // MARK: JSON

    public indirect enum JSON {
        case string(String), number(Double), int(Int), bool(Bool), null
        case array([JSON]), object([(String, JSON)])

        public func render(indent: Int = 0) -> String {
            let pad = String(repeating: "  ", count: indent + 1), close = String(repeating: "  ", count: indent)
            switch self {
            case .string(let s): return Self.quote(s)
            case .number(let d): return d.isFinite ? "\(d)" : "null"
            case .int(let i): return String(i)
            case .bool(let b): return b ? "true" : "false"
            case .null: return "null"
            case .array(let items):
                if items.isEmpty { return "[]" }
                if items.allSatisfy({ if case .array = $0 { return false }; if case .object = $0 { return false }; return true }) {
                    return "[" + items.map { $0.render() }.joined(separator: ", ") + "]"
                }
                return "[\n" + items.map { pad + $0.render(indent: indent + 1) }.joined(separator: ",\n") + "\n" + close + "]"
            case .object(let pairs):
                if pairs.isEmpty { return "{}" }
                return "{\n" + pairs.map { pad + Self.quote($0.0) + ": " + $0.1.render(indent: indent + 1) }.joined(separator: ",\n") + "\n" + close + "}"
            }
        }

        static func quote(_ s: String) -> String {
            var out = "\""
            for c in s.unicodeScalars {
                switch c {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                default:
                    if c.value < 0x20 { out += String(format: "\\u%04x", c.value) } else { out.unicodeScalars.append(c) }
                }
            }
            return out + "\""
        }
    }

    static func metricsJSON(_ metrics: [MetricResult], alias: String) -> JSON {
        var pairs: [(String, JSON)] = [("alias", .string(alias))]
        for m in metrics {
            pairs.append((m.name, .number(m.value)))
            pairs.append((m.name + "_stderr", m.stderr.map(JSON.number) ?? .string("N/A")))
        }
        return .object(pairs)
    }

    public static func json(_ results: [TaskResult], groups: [GroupResult], config: [(String, JSON)], timings: [(String, JSON)],
                            logSamples: Bool) -> JSON {
        var top: [(String, JSON)] = [
            ("results", .object(results.map { ($0.name, metricsJSON($0.metrics, alias: $0.alias ?? $0.name)) })),
            ("groups", .object(groups.map { ($0.name, metricsJSON($0.metrics, alias: $0.alias ?? $0.name)) })),
            ("group_subtasks", .object(groups.map { ($0.name, .array($0.leaves.map(JSON.string))) })),
            ("versions", .object(results.map { ($0.name, .string($0.version)) } + groups.map { ($0.name, .string($0.version)) })),
            ("n-shot", .object(results.map { ($0.name, .int($0.numFewshot)) })),
            ("n-samples", .object(results.map { ($0.name, .object([("effective", .int($0.documents))])) })),
            ("config", .object(config)),
            ("timings", .object(timings + results.map { ($0.name + "_seconds", .number($0.seconds)) })),
        ]
        if logSamples {
            top.append(("samples", .object(results.map { r in
                (r.name, .array(r.samples.map { s in
                    var pairs: [(String, JSON)] = [("doc_id", .int(s.docId)), ("target", .string(s.target)),
                                                   ("arguments", .array(s.arguments.map { .array($0.map(JSON.string)) }))]
                    if !s.loglikelihoods.isEmpty { pairs.append(("loglikelihoods", .array(s.loglikelihoods.map(JSON.number)))) }
                    if !s.isGreedy.isEmpty { pairs.append(("is_greedy", .array(s.isGreedy.map(JSON.bool)))) }
                    if let response = s.response { pairs.append(("filtered_resps", .array([.string(response)]))) }
                    for (k, v) in s.metrics { pairs.append((k, .number(v))) }
                    return .object(pairs)
                }))
            })))
        }
        return .object(top)
    }
}
