import Foundation
import DogeModel
import DogeTokenizers
import DogeTraining

/// Everything a post-training run starts from: options, the recipe's TRL keys, model, tokenizer, rows.
public struct PostTrainingSetup {
    public var kind: PostTrainingRecipe.Kind
    public var options: TrainingOptions
    public var recipe: PostTrainingRecipe
    public var model: DogeForCausalLM
    public var tokenizer: Tokenizer
    public var tokenizerDirectory: URL
    public var rows: [DataRow]
    /// Held-out rows (eval_dataset files, else eval_split of the training rows when evaluation is on).
    public var evalRows: [DataRow] = []

    public init(kind: PostTrainingRecipe.Kind, values: [String: Any]) throws {
        self.kind = kind
        recipe = PostTrainingRecipe(values, kind: kind)
        options = try TrainingOptions.from(recipe.trainer)
        model = try TrainingSetup.model(options)
        guard let dir = TrainingSetup.tokenizerDirectory(options) else {
            throw PostTrainingError.invalidOption(key: "model_name_or_path", problem: "no tokenizer.json in \(options.tokenizerPath ?? options.modelPath ?? "?"); post-training needs the checkpoint's tokenizer (or tokenizer_name_or_path)")
        }
        tokenizerDirectory = dir
        do { tokenizer = try Tokenizer(directory: dir) } catch {
            throw PostTrainingError.data("\(dir.path): cannot load the tokenizer: \(error)")
        }
        rows = try Self.mix(options)
        if !options.evalDatasets.isEmpty {
            evalRows = try options.evalDatasets.flatMap { try JSONLines.read($0) }
        } else if options.evalStrategy == "steps" || options.evalFraction != nil {
            let fraction = options.evalFraction ?? 0.01
            let held = fraction > 0 ? max(1, Int((Double(rows.count) * fraction).rounded())) : 0
            guard held < rows.count else {
                throw PostTrainingError.data("\(rows.count) rows leave nothing to train on after holding out \(held) for evaluation; give eval_dataset or lower eval_split")
            }
            evalRows = Array(rows.suffix(held))
            rows.removeLast(held)
        }
    }

    /// This setup with the held-out rows as its data (for the evaluation task).
    public func forEvaluation() -> PostTrainingSetup? {
        guard !evalRows.isEmpty else { return nil }
        var copy = self
        copy.rows = evalRows
        copy.evalRows = []
        return copy
    }

    /// small-doge's mixing: each file's rows, sized to int(total · ratio) when total_sample_size is
    /// given (cycling a smaller file, cutting a larger one), concatenated in recipe order.
    static func mix(_ o: TrainingOptions) throws -> [DataRow] {
        var rows: [DataRow] = []
        let sum = o.datasets.reduce(0) { $0 + $1.ratio }
        for (path, ratio) in o.datasets {
            let file = try JSONLines.read(path)
            guard let total = o.totalSampleSize, total > 0 else { rows += file; continue }
            let n = Int(Double(total) * ratio / sum)
            rows += (0..<n).map { file[$0 % file.count] }
        }
        return rows
    }

    /// The pad token id: pad_token from the recipe, else the tokenizer's pad, else its eos.
    public func padID(_ key: String = "pad_token") throws -> Int {
        let name = try recipe.string(key, default: nil) ?? tokenizer.padToken ?? tokenizer.eosToken
        guard let name, let id = tokenizer.tokenToID(name) else {
            throw PostTrainingError.invalidOption(key: key, problem: "no pad token: the tokenizer has neither pad_token nor eos_token; set pad_token")
        }
        return id
    }

    /// SFTTrainer's data and task.
    public func sftTask(report: (String) -> Void = { _ in }) throws -> SFTTask {
        var d = SFTDataOptions()
        d.textField = options.textField
        d.maxLength = options.maxLength
        d.completionOnlyLoss = try recipe.optionalBool("completion_only_loss")
        d.assistantOnlyLoss = try recipe.bool("assistant_only_loss", default: false)
        d.eosToken = try recipe.string("eos_token", default: nil)
        let packing = try recipe.bool("packing", default: false)
        let strategy = try recipe.string("packing_strategy", default: "bfd")!
        if packing && strategy != "bfd" {
            throw PostTrainingError.invalidOption(key: "packing_strategy", problem: "only bfd is implemented (TRL's default); found \(strategy)")
        }
        if try recipe.string("truncation_mode", default: "keep_start") != "keep_start" {
            throw PostTrainingError.invalidOption(key: "truncation_mode", problem: "TRL 1.16 SFT supports keep_start only")
        }
        if try recipe.string("loss_type", default: "nll") != "nll" {
            throw PostTrainingError.invalidOption(key: "loss_type", problem: "only nll is implemented for SFT")
        }
        let (examples, dropped) = try SFTData.examples(rows: rows, tokenizer: tokenizer, options: d, packing: packing)
        if dropped > 0 { report("skipped \(dropped) rows left without a target after truncation to max_length \(options.maxLength)\n") }
        let task = try SFTTask(examples: examples, packing: packing, maxLength: options.maxLength, padID: try padID())
        report("SFT: \(examples.count) examples" + (packing ? " packed into \(task.sampleCount) bins of \(options.maxLength)" : "") + "\n")
        return task
    }

    /// DPOTrainer's data and task; the reference is the model as loaded.
    public func dpoTask(report: (String) -> Void = { _ in }) throws -> DPOTask {
        let name = try recipe.string("loss_type", default: "sigmoid")!
        guard let lossType = DPOLossType(rawValue: name) else {
            throw PostTrainingError.invalidOption(key: "loss_type", problem: "supported: \(DPOLossType.allCases.map(\.rawValue).joined(separator: ", ")); found \(name)")
        }
        if let f = try recipe.string("f_divergence_type", default: nil), f != "reverse_kl" {
            throw PostTrainingError.invalidOption(key: "f_divergence_type", problem: "only reverse_kl is implemented")
        }
        if try recipe.string("truncation_mode", default: "keep_start") != "keep_start" {
            throw PostTrainingError.invalidOption(key: "truncation_mode", problem: "only keep_start (TRL 1.16's default) is implemented")
        }
        let (pairs, dropped) = try DPOData.pairs(rows: rows, tokenizer: tokenizer, maxLength: options.maxLength)
        if dropped > 0 { report("skipped \(dropped) rows whose prompt alone fills max_length \(options.maxLength)\n") }
        report("DPO: \(pairs.count) pairs; computing the reference log-probabilities once\n")
        return try DPOTask(pairs: pairs, beta: try recipe.double("beta", default: 0.1), lossType: lossType,
                           labelSmoothing: try recipe.double("label_smoothing", default: 0), maxLength: options.maxLength,
                           padID: try padID(), reference: model)
    }
}
