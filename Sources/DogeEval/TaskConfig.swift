import Foundation
import Yams

/// A YAML value as lm-eval's task files use it (ordered mappings; `!function` kept as a marker).
public indirect enum YAMLValue: Sendable {
    case null, bool(Bool), int(Int), double(Double), string(String)
    case list([YAMLValue])
    case map([(String, YAMLValue)])
    /// `!function module.name`: Python code, which a task file for doge must express as a template.
    case function(String)

    subscript(key: String) -> YAMLValue? {
        if case .map(let pairs) = self { return pairs.last(where: { $0.0 == key })?.1 }
        return nil
    }

    var string: String? {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : String(d)
        case .bool(let b): return b ? "True" : "False"
        default: return nil
        }
    }

    init(node: Node) {
        switch node {
        case .scalar(let scalar):
            let tag = scalar.tag.description
            if tag == "!function" { self = .function(scalar.string); return }
            let text = scalar.string
            guard scalar.style == .plain else { self = .string(text); return }
            switch text {   // YAML core schema for plain scalars
            case "", "~", "null", "Null", "NULL": self = .null
            case "true", "True", "TRUE": self = .bool(true)
            case "false", "False", "FALSE": self = .bool(false)
            default:
                if let i = Int(text) { self = .int(i) } else if let d = Double(text), text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) { self = .double(d) } else { self = .string(text) }
            }
        case .mapping(let mapping):
            self = .map(mapping.map { (String(describing: $0.key.string ?? "\($0.key)"), YAMLValue(node: $0.value)) })
        case .sequence(let sequence):
            self = .list(sequence.map(YAMLValue.init(node:)))
        }
    }

    /// Reads a YAML file as lm-eval does, following `include:` (relative to the including file;
    /// the including file's keys win, a shallow merge).
    static func loadTaskFile(_ url: URL, depth: Int = 0) throws -> [(String, YAMLValue)] {
        guard depth < 8 else { throw EvalError(.taskFile, "\(url.path): include chain deeper than 8 files (a cycle?)") }
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw EvalError(.taskFile, "cannot read task file \(url.path): \(error.localizedDescription)")
        }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw EvalError(.taskFile, "\(url.path): invalid YAML: \(error)")
        }
        guard let node, case .map(let pairs) = YAMLValue(node: node) else {
            throw EvalError(.taskFile, "\(url.path): a task file must be a YAML mapping of lm-eval's keys (task, doc_to_text, …)")
        }
        var merged: [(String, YAMLValue)] = []
        if let include = pairs.last(where: { $0.0 == "include" })?.1 {
            let names: [String]
            switch include {
            case .string(let s): names = [s]
            case .list(let items): names = items.compactMap(\.string)
            default: throw EvalError(.taskFile, "\(url.path): field 'include' must be a file name")
            }
            for name in names {
                let base = name.hasPrefix("/") ? URL(fileURLWithPath: name) : url.deletingLastPathComponent().appendingPathComponent(name)
                guard FileManager.default.fileExists(atPath: base.path) else {
                    throw EvalError(.taskFile, "\(url.path): field 'include': \(base.path) does not exist")
                }
                for (k, v) in try loadTaskFile(base, depth: depth + 1) { setKey(&merged, k, v) }
            }
        }
        for (k, v) in pairs where k != "include" { setKey(&merged, k, v) }
        return merged
    }

    private static func setKey(_ pairs: inout [(String, YAMLValue)], _ key: String, _ value: YAMLValue) {
        if let i = pairs.firstIndex(where: { $0.0 == key }) { pairs[i].1 = value } else { pairs.append((key, value)) }
    }
}

/// The kinds of request lm-eval knows.
public enum OutputType: String, Sendable {
    case multipleChoice = "multiple_choice"
    case loglikelihood
    case loglikelihoodRolling = "loglikelihood_rolling"
    case generateUntil = "generate_until"
}

/// A `doc_to_*` field: a column name or template (lm-eval decides which per dataset), a list, or an int.
public enum FieldSpec: Sendable, Equatable {
    case template(String)
    case list([String])
    case int(Int)
}

public struct MetricSpec: Sendable, Equatable {
    public var name: String
    public var aggregation: String
    public var higherIsBetter: Bool
    public var ignoreCase = false
    public var ignorePunctuation = false
    public var ignoreNumbers = false
    public var regexesToIgnore: [String] = []
}

/// One field `process_docs` adds to every document (doge's declarative form of lm-eval's Python hook).
public struct DerivedField: Sendable, Equatable {
    public var name: String
    public var template: String
    /// Parse the rendering as a Python literal (a list, a number) instead of keeping the text.
    public var literal: Bool
}

public struct GenerationSpec: Sendable, Equatable {
    public var until: [String]
    public var maxGenToks: Int?
    public var doSample: Bool
}

/// Whose semantics a task follows where lm-evaluation-harness and lighteval differ (the task
/// file's `style` key): lighteval shuffles the documents with `random.Random(42)` (`--limit` takes
/// the first N of that order), chooses few-shot examples with its own selections (`balanced`,
/// `sequential`, `random`, `random_sampling`, `random_sampling_from_train`), encodes a
/// continuation that merges into the context as the context's last token, and generates exactly
/// `max_gen_toks` tokens at most.
public enum TaskStyle: String, Sendable {
    case lmEval = "lm-eval"
    case lighteval
}

/// A task file: lm-eval's keys, validated.
public struct TaskConfig: Sendable {
    public var name: String
    public var alias: String?
    public var file: URL
    public var style: TaskStyle = .lmEval
    public var version: String
    public var tags: [String] = []
    public var datasetPath: String?
    public var datasetName: String?
    public var trainingSplit: String?
    public var validationSplit: String?
    public var testSplit: String?
    public var fewshotSplit: String?
    public var outputType: OutputType
    public var processDocs: [DerivedField] = []
    public var docToText: FieldSpec?
    public var docToTarget: FieldSpec?
    public var docToChoice: FieldSpec?
    public var description = ""
    public var targetDelimiter = " "
    public var fewshotDelimiter = "\n\n"
    public var fewshotSampler = "default"
    public var fewshotTargetDelimiter: String?
    public var fewshotFewshotDelimiter: String?
    public var numFewshot: Int?
    public var metrics: [MetricSpec]
    public var generation: GenerationSpec?
    /// Filters on generated text, in order (`remove_whitespace`, `take_first`, `lowercase`, `uppercase`).
    public var filters: [String] = []
    public var filterName = "none"
    /// doge's key for lm-eval's custom `process_results` of wikitext: the text whose words and
    /// bytes are counted (default: the target).
    public var countText: String?

    /// The split evaluated: test if the task has one, else validation.
    public var evalSplit: String? { testSplit ?? validationSplit }
}

extension TaskConfig {
    static let supportedMetrics: [OutputType: Set<String>] = [
        .multipleChoice: ["acc", "acc_norm", "acc_norm_nospace", "acc_bytes", "exact_match"],
        .loglikelihood: ["acc", "perplexity"],
        .loglikelihoodRolling: ["word_perplexity", "byte_perplexity", "bits_per_byte"],
        .generateUntil: ["exact_match", "qem"],
    ]

    /// Few-shot selections per style: lm-eval's samplers, lighteval's `few_shots_select`.
    static let samplers: [TaskStyle: [String]] = [
        .lmEval: ["default", "first_n"],
        .lighteval: ["balanced", "sequential", "random", "random_sampling", "random_sampling_from_train"],
    ]

    static let defaultAggregation: [String: String] = [
        "acc": "mean", "acc_norm": "mean", "acc_norm_nospace": "mean", "acc_bytes": "mean", "exact_match": "mean", "qem": "mean", "perplexity": "perplexity",
        "word_perplexity": "weighted_perplexity", "byte_perplexity": "weighted_perplexity", "bits_per_byte": "bits_per_byte",
    ]

    /// Builds a task from a parsed file; errors name the file and the field.
    init(pairs: [(String, YAMLValue)], file: URL) throws {
        let map = YAMLValue.map(pairs)
        let where_ = file.path
        func fail(_ field: String, _ why: String) -> EvalError { EvalError(.taskFile, "\(where_): field '\(field)': \(why)") }
        func string(_ key: String) throws -> String? {
            switch map[key] {
            case nil, .null?: return nil
            case .function(let f)?: throw fail(key, "'!function \(f)' is Python code; doge runs no Python: write it as a Jinja template")
            case let v?:
                guard let s = v.string else { throw fail(key, "expected a string") }
                return s
            }
        }
        func field(_ key: String) throws -> FieldSpec? {
            switch map[key] {
            case nil, .null?: return nil
            case .int(let i)?: return .int(i)
            case .list(let items)?:
                return .list(try items.map { guard let s = $0.string else { throw fail(key, "list items must be strings") }; return s })
            case .map(let pairs)?:   // lm-eval takes a dict's values
                return .list(try pairs.map { guard let s = $0.1.string else { throw fail(key, "values must be strings") }; return s })
            default: return try string(key).map(FieldSpec.template)
            }
        }
        guard let name = try string("task") else { throw EvalError(.taskFile, "\(where_): no 'task' name") }
        self.name = name
        self.file = file
        alias = try string("task_alias")
        if let s = try string("style") {
            guard let st = TaskStyle(rawValue: s) else { throw fail("style", "'\(s)' is not one of lm-eval, lighteval") }
            style = st
        }
        fewshotSampler = style == .lighteval ? "balanced" : "default"
        version = map["metadata"]?["version"]?.string ?? "N/A"
        switch map["tag"] {
        case .string(let s)?: tags = [s]
        case .list(let items)?: tags = items.compactMap(\.string)
        default: break
        }
        datasetPath = try string("dataset_path")
        datasetName = try string("dataset_name")
        trainingSplit = try string("training_split")
        validationSplit = try string("validation_split")
        testSplit = try string("test_split")
        fewshotSplit = try string("fewshot_split")
        let type = try string("output_type") ?? "generate_until"
        guard let output = OutputType(rawValue: type) else {
            throw fail("output_type", "'\(type)' is not one of multiple_choice, loglikelihood, loglikelihood_rolling, generate_until")
        }
        outputType = output
        guard testSplit != nil || validationSplit != nil else {
            throw fail("test_split", "the task names neither a test_split nor a validation_split to evaluate")
        }
        docToText = try field("doc_to_text")
        docToTarget = try field("doc_to_target")
        docToChoice = try field("doc_to_choice")
        if output == .multipleChoice && docToChoice == nil { throw fail("doc_to_choice", "a multiple_choice task needs its choices") }
        description = try string("description") ?? ""
        targetDelimiter = try string("target_delimiter") ?? " "
        fewshotDelimiter = try string("fewshot_delimiter") ?? "\n\n"
        if case .int(let n)? = map["num_fewshot"] { numFewshot = n }
        if let fewshot = map["fewshot_config"], case .map = fewshot {
            if let s = fewshot["sampler"]?.string {
                let allowed = Self.samplers[style]!
                guard allowed.contains(s) else {
                    throw fail("fewshot_config.sampler", "'\(s)' is not one of \(allowed.joined(separator: ", ")) (style \(style.rawValue))")
                }
                fewshotSampler = s
            }
            fewshotTargetDelimiter = fewshot["target_delimiter"]?.string
            fewshotFewshotDelimiter = fewshot["fewshot_delimiter"]?.string
            if let split = fewshot["split"]?.string { fewshotSplit = split }
        }
        switch map["process_docs"] {
        case nil, .null?: break
        case .map(let entries)?:
            processDocs = try entries.map { key, value in
                switch value {
                case .string(let t): return DerivedField(name: key, template: t, literal: false)
                case .map:
                    guard let t = value["literal"]?.string else { throw fail("process_docs.\(key)", "expected a template, or {literal: template}") }
                    return DerivedField(name: key, template: t, literal: true)
                default: throw fail("process_docs.\(key)", "expected a template, or {literal: template}")
                }
            }
        case .function(let f)?: throw fail("process_docs", "'!function \(f)' is Python code; doge runs no Python: give a mapping of field: template")
        default: throw fail("process_docs", "expected a mapping of field: template")
        }
        countText = try string("count_text")
        if case .function(let f)? = map["process_results"] {
            throw fail("process_results", "'!function \(f)' is Python code; doge runs no Python (for word/byte counts of another field use count_text)")
        }
        // Metrics: lm-eval's defaults per output type unless listed.
        let supported = Self.supportedMetrics[output]!
        if case .list(let items)? = map["metric_list"] {
            metrics = try items.enumerated().map { i, item in
                guard let name = item["metric"]?.string else { throw fail("metric_list[\(i)]", "no 'metric' key") }
                guard supported.contains(name) else {
                    throw fail("metric_list[\(i)]", "metric '\(name)' is not supported for \(type) (supported: \(supported.sorted().joined(separator: ", ")))")
                }
                var m = MetricSpec(name: name, aggregation: item["aggregation"]?.string ?? Self.defaultAggregation[name]!,
                                   higherIsBetter: item["higher_is_better"].flatMap { if case .bool(let b) = $0 { return b }; return nil }
                                       ?? !name.contains("perplexity") && name != "bits_per_byte")
                if case .bool(let b)? = item["ignore_case"] { m.ignoreCase = b }
                if case .bool(let b)? = item["ignore_punctuation"] { m.ignorePunctuation = b }
                if case .bool(let b)? = item["ignore_numbers"] { m.ignoreNumbers = b }
                if case .list(let r)? = item["regexes_to_ignore"] { m.regexesToIgnore = r.compactMap(\.string) }
                return m
            }
        } else {
            let names: [String]
            switch output {
            case .multipleChoice: names = ["acc", "acc_norm"]
            case .loglikelihood: names = ["perplexity", "acc"]
            case .loglikelihoodRolling: names = ["word_perplexity", "byte_perplexity", "bits_per_byte"]
            case .generateUntil: names = ["exact_match"]
            }
            metrics = names.map { MetricSpec(name: $0, aggregation: Self.defaultAggregation[$0]!, higherIsBetter: !$0.contains("perplexity") && $0 != "bits_per_byte") }
        }
        if output == .generateUntil {
            let kwargs = map["generation_kwargs"]
            var until: [String] = [fewshotDelimiter]
            switch kwargs?["until"] {
            case .string(let s)?: until = [s]
            case .list(let items)?: until = items.compactMap(\.string)
            default: break
            }
            var maxGen: Int?
            for key in ["max_gen_toks", "max_new_tokens", "max_tokens", "max_completion_tokens"] {
                if case .int(let n)? = kwargs?[key] { maxGen = n; break }
            }
            var doSample = false
            if case .bool(let b)? = kwargs?["do_sample"] { doSample = b }
            if doSample { throw fail("generation_kwargs.do_sample", "sampling is not supported; doge eval decodes greedily as lm-eval does with do_sample: false") }
            generation = GenerationSpec(until: until, maxGenToks: maxGen, doSample: doSample)
            filters = ["take_first"]
        }
        if case .list(let items)? = map["filter_list"], let first = items.first {
            filterName = first["name"]?.string ?? "none"
            guard case .list(let functions)? = first["filter"] else { throw fail("filter_list[0].filter", "expected a list of functions") }
            filters = try functions.map {
                guard let f = $0["function"]?.string else { throw fail("filter_list[0].filter", "each entry needs a 'function'") }
                guard ["remove_whitespace", "take_first", "lowercase", "uppercase"].contains(f) else {
                    throw fail("filter_list[0].filter", "filter function '\(f)' is not supported (remove_whitespace, take_first, lowercase, uppercase)")
                }
                return f
            }
            if items.count > 1 { throw fail("filter_list", "only one filter pipeline is supported") }
        }
    }
}

/// A group file (`group:` + `task:` list + `aggregate_metric_list`), as lm-eval's MMLU uses.
public struct GroupConfig: Sendable {
    public var name: String
    public var alias: String?
    public var members: [String]
    public var aggregate: [(metric: String, weightBySize: Bool)]
    public var version: String
    public var style: TaskStyle = .lmEval

    init(pairs: [(String, YAMLValue)], file: URL) throws {
        let map = YAMLValue.map(pairs)
        guard let name = map["group"]?.string else { throw EvalError(.taskFile, "\(file.path): no 'group' name") }
        self.name = name
        if let s = map["style"]?.string {
            guard let st = TaskStyle(rawValue: s) else { throw EvalError(.taskFile, "\(file.path): field 'style': '\(s)' is not one of lm-eval, lighteval") }
            style = st
        }
        alias = map["group_alias"]?.string
        switch map["task"] {
        case .list(let items)?: members = items.compactMap(\.string)
        case .string(let s)?: members = [s]
        default: throw EvalError(.taskFile, "\(file.path): field 'task': a group lists its tasks")
        }
        aggregate = []
        if case .list(let items)? = map["aggregate_metric_list"] {
            aggregate = items.compactMap { item in
                guard let m = item["metric"]?.string else { return nil }
                var weight = true
                if case .bool(let b)? = item["weight_by_size"] { weight = b }
                return (m, weight)
            }
        }
        version = map["metadata"]?["version"]?.string ?? "N/A"
    }
}
