import Foundation
import DogeModel

/// Which recipe keys exist, as strictly as transformers' HfArgumentParser reads a YAML file: a key
/// `doge train` does not know is an error with a "did you mean" suggestion, never silently ignored.
extension TrainingOptions {
    /// Keys `from(_:)` applies.
    public static let appliedKeys: Set<String> = [
        "model_init_kwargs", "model_config", "model_name_or_path", "tokenizer_name_or_path", "tokenizer",
        "datasets_and_ratios", "dataset_name", "dataset", "train_file", "eval_dataset", "eval_datasets", "validation_file",
        "dataset_text_field", "max_length", "max_seq_length", "total_sample_size", "eval_split", "validation_split_percentage",
        "cache_dir", "learning_rate", "lr_scheduler_type", "lr_scheduler_kwargs", "warmup_steps", "warmup_ratio",
        "max_steps", "num_train_epochs", "per_device_train_batch_size", "per_device_eval_batch_size",
        "gradient_accumulation_steps", "weight_decay", "adam_beta1", "adam_beta2", "adam_epsilon", "max_grad_norm", "seed",
        "logging_steps", "save_steps", "save_strategy", "save_total_limit", "eval_steps", "eval_strategy",
        "evaluation_strategy", "do_eval", "output_dir", "optim",
    ]

    /// Keys whose values are file or directory paths; relative ones are read from the recipe's folder.
    static let pathKeys: Set<String> = [
        "model_name_or_path", "tokenizer_name_or_path", "tokenizer", "dataset_name", "dataset", "train_file",
        "eval_dataset", "eval_datasets", "validation_file", "cache_dir", "output_dir",
    ]

    /// Keys model_init_kwargs (a DogeConfig) accepts.
    public static var modelInitKeys: Set<String> { DogeConfiguration.fieldNames }

    /// Throws for keys that are neither applied nor listed as not applicable, naming the closest known key.
    static func checkKnown(_ keys: some Sequence<String>, known: Set<String>, section: String? = nil) throws {
        let unknown = keys.filter { !known.contains($0) }.sorted()
        guard let first = unknown.first else { return }
        let described = unknown.map { key -> String in
            suggestion(for: key, among: known).map { "\(key) (did you mean \($0)?)" } ?? key
        }
        let what = section.map { "unknown \($0) field" } ?? "unknown recipe key"
        throw TrainingError.invalidOption(
            key: section.map { "\($0).\(first)" } ?? first,
            problem: "\(what)\(unknown.count > 1 ? "s" : ""): \(described.joined(separator: ", ")); "
                + (section == nil ? "doge help train lists the supported settings" : "see DogeConfig's fields in config.json"))
    }

    /// The known key closest to `key` in edit distance, if it is close enough to be a typo.
    static func suggestion(for key: String, among candidates: Set<String>) -> String? {
        let scored = candidates.map { ($0, editDistance(key, $0)) }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
        guard let best = scored.first, best.1 <= max(2, key.count / 4) else { return nil }
        return best.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a.utf8), y = Array(b.utf8)
        if x.isEmpty || y.isEmpty { return max(x.count, y.count) }
        var previous = Array(0...y.count)
        for i in 1...x.count {
            var current = [i] + Array(repeating: 0, count: y.count)
            for j in 1...y.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[y.count]
    }

    /// The recipe's relative paths made absolute against `base` (the recipe's folder), so a recipe
    /// runs the same from any working directory. Flags given on the command line stay relative to it.
    /// A Hugging Face repository id (`SmallDoge/Doge-20M-Instruct`) that is not a folder beside the
    /// recipe stays as written, so the error about it names the id.
    public static func resolvingPaths(_ values: [String: Any], against base: URL) -> [String: Any] {
        func resolve(_ path: String, _ key: String) -> String {
            if path.hasPrefix("/") || path.hasPrefix("~") || path.isEmpty { return path }
            let resolved = URL(fileURLWithPath: path, relativeTo: base).standardizedFileURL.path
            if hubIDKeys.contains(key), !FileManager.default.fileExists(atPath: resolved), looksLikeHubID(path) { return path }
            return resolved
        }
        var out = values
        for (key, value) in values {
            if pathKeys.contains(key) {
                if let s = value as? String { out[key] = resolve(s, key) }
                else if let list = value as? [Any] { out[key] = list.map { ($0 as? String).map { resolve($0, key) } ?? $0 } }
            } else if key == "datasets_and_ratios", let list = value as? [Any] {
                out[key] = list.map { item -> Any in
                    guard let entry = item as? [String: Any] else { return item }
                    return Dictionary(entry.map { (resolve($0.key, key), $0.value) }, uniquingKeysWith: { a, _ in a })
                }
            }
        }
        return out
    }

    /// Keys whose value may name a Hugging Face repository instead of a local path.
    static let hubIDKeys: Set<String> = ["model_name_or_path", "tokenizer_name_or_path", "tokenizer", "dataset_name", "datasets_and_ratios"]

    /// `owner/name`, not `./x`, `../x` or a data file such as `corpus/train.jsonl`.
    static func looksLikeHubID(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        let dataExtensions: Set<String> = ["jsonl", "json", "ndjson", "txt", "text", "parquet", "csv", "arrow"]
        return parts.count == 2 && !parts.contains { $0.isEmpty || $0.hasPrefix(".") }
            && !dataExtensions.contains(URL(fileURLWithPath: path).pathExtension.lowercased())
    }

    /// Sets `KEY=VALUE` where KEY may reach into mappings: `model_init_kwargs.hidden_size`.
    public static func set(_ values: inout [String: Any], key path: String, to value: Any) throws {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !parts.contains(where: \.isEmpty) else {
            throw TrainingError.invalidOption(key: path, problem: "--set expects KEY=VALUE or KEY.FIELD=VALUE")
        }
        func assign(_ object: [String: Any], _ rest: ArraySlice<String>, _ prefix: String) throws -> [String: Any] {
            var object = object
            let head = rest.first!
            if rest.count == 1 { object[head] = value; return object }
            let inner: [String: Any]
            switch object[head] {
            case nil, is NSNull: inner = [:]
            case let d as [String: Any]: inner = d
            case let other?:
                throw TrainingError.invalidOption(key: prefix + head, problem: "is \(other), not a mapping, so --set \(path) cannot reach into it")
            }
            object[head] = try assign(inner, rest.dropFirst(), prefix + head + ".")
            return object
        }
        values = try assign(values, parts[...], "")
    }
}
