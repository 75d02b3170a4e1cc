import DogeJinja
import Foundation

/// lm-eval's few-shot samplers: `default` draws with one `random.Random(1234)` shared by all
/// documents of the task, in order; `first_n` takes the first n (MMLU's dev questions).
/// lighteval's selections (`sample(lighteval:)`) are further down.
struct FewshotSampler {
    let task: String
    let pool: [Document]
    let poolName: String
    let method: String
    var firstN: Bool { method == "first_n" }
    /// lm-eval: `random.Random(1234)`; lighteval: the `Random(42)` that shuffled the documents.
    var rnd: PythonRandom
    /// lighteval's `balanced` examples, chosen once for the whole task.
    private var balanced: [Document]?

    init(task: String, pool: [Document], poolName: String, method: String, rnd: PythonRandom) {
        self.task = task
        self.pool = pool
        self.poolName = poolName
        self.method = method
        self.rnd = rnd
    }

    mutating func sample(_ n: Int, excluding evalDoc: Document?) throws -> [Document] {
        if n == 0 { return [] }
        func same(_ d: Document) -> Bool { evalDoc.map { pythonEqual(.object(d.fields), .object($0.fields)) } ?? false }
        if firstN {
            let candidates = evalDoc == nil ? pool : pool.filter { !same($0) }
            guard n <= candidates.count else { throw tooFew(n, have: candidates.count, extra: "") }
            return Array(candidates.prefix(n))
        }
        guard evalDoc != nil else {
            guard n <= pool.count else { throw tooFew(n, have: pool.count, extra: "") }
            return rnd.sample(pool, n)
        }
        // lm-eval draws one spare when the few-shot split may hold the evaluated document.
        guard n + 1 <= pool.count else {
            throw tooFew(n + 1, have: pool.count, extra: " (lm-eval draws one more than --num-fewshot when the task has no test_split, to drop the evaluated document)")
        }
        var chosen = Array(rnd.sample(pool, n + 1).filter { !same($0) }.prefix(n))
        if chosen.count < n {
            let rest = pool.filter { !same($0) }
            guard n <= rest.count else { throw tooFew(n, have: rest.count, extra: "") }
            chosen = rnd.sample(rest, n)
        }
        return chosen
    }

    /// lighteval 0.8's FewShotSampler (variance seed 0): `random_sampling_from_train` draws n
    /// with the shared generator, `random_sampling` n + 1; `sequential` and `random` take the
    /// pool in order; `balanced` picks n + 1 once (below). The evaluated document is then
    /// dropped wherever it appears and the first n kept — fewer if it was among them, as lighteval.
    mutating func sample(lighteval n: Int, same: (Document) throws -> Bool, label: (Document) throws -> String) throws -> [Document] {
        if n == 0 { return [] }
        let drawn: [Document]
        switch method {
        case "random_sampling_from_train":
            guard n <= pool.count else { throw tooFew(n, have: pool.count, extra: "") }
            drawn = rnd.sample(pool, n)
        case "random_sampling":
            guard n + 1 <= pool.count else {
                throw tooFew(n + 1, have: pool.count, extra: " (lighteval's random_sampling draws one more than --num-fewshot)")
            }
            drawn = rnd.sample(pool, n + 1)
        case "balanced":
            guard n <= pool.count else { throw tooFew(n, have: pool.count, extra: "") }
            if balanced == nil { balanced = try balancedExamples(n, label: label) }
            drawn = balanced!
        default:   // sequential, random: with variance seed 0 the pool is neither rotated nor shuffled
            guard n <= pool.count else { throw tooFew(n, have: pool.count, extra: "") }
            drawn = pool
        }
        var kept: [Document] = []
        for d in drawn where kept.count < n { if try !same(d) { kept.append(d) } }
        return kept
    }

    /// lighteval's balanced selection: `random.seed(0)`; the pool grouped by gold answer text;
    /// labels in string order, grouped by how many examples they have (most first), each group
    /// shuffled; then round-robin over the labels, popping `randrange(len)` from each, n + 1 in all.
    private func balancedExamples(_ n: Int, label: (Document) throws -> String) throws -> [Document] {
        var global = PythonRandom(seed: 0)
        var byLabel: [String: [Document]] = [:]
        for d in pool { byLabel[try label(d), default: []].append(d) }
        func codePoints(_ s: String) -> [UInt32] { s.unicodeScalars.map(\.value) }
        let labels = byLabel.keys.sorted { codePoints($0).lexicographicallyPrecedes(codePoints($1)) }
        var byCount: [Int: [String]] = [:]
        for l in labels { byCount[byLabel[l]!.count, default: []].append(l) }
        var order: [String] = []
        for count in byCount.keys.sorted(by: >) {
            var group = byCount[count]!
            global.shuffle(&group)
            order += group
        }
        var examples: [Document] = []
        var remaining = min(pool.count, n + 1)
        var i = 0
        while remaining > 0, !order.isEmpty {
            let l = order[i % order.count]
            i += 1
            if l.isEmpty { break }   // lighteval's `if not next_label: break`
            guard var instances = byLabel[l], !instances.isEmpty else { continue }
            examples.append(instances.remove(at: global.randbelow(instances.count)))
            byLabel[l] = instances
            remaining -= 1
        }
        return examples
    }

    private func tooFew(_ n: Int, have: Int, extra: String) -> EvalError {
        EvalError(.fewshot, "\(task): the few-shot examples need \(n) documents but \(poolName) has \(have)\(extra); lower --num-fewshot or add documents")
    }
}

/// The gold answer of a document, as lm-eval's process_results reads it.
public enum Gold: Sendable, Equatable {
    case index(Int)          // -100 when out of range, as lm-eval
    case indices([Int])
    case texts([String])
}

/// One document's requests.
public struct DocRequests: Sendable {
    public var docId: Int
    public var doc: Document
    /// (context, continuation) pairs: one per choice, or one for `loglikelihood`.
    public var pairs: [(context: String, continuation: String)] = []
    /// `loglikelihood_rolling`: the text scored.
    public var rollingText: String?
    /// `generate_until`: the prompt.
    public var generationContext: String?
    public var choices: [String] = []
    public var gold: Gold = .index(-100)
    /// Text whose words and bytes perplexity counts (rolling tasks).
    public var countText: String?
}

/// Builds each document's context and requests exactly as lm-eval's `fewshot_context` and
/// `construct_requests`.
struct RequestBuilder {
    let config: TaskConfig
    let prompter: TaskPrompter
    let numFewshot: Int
    var sampler: FewshotSampler?
    /// doc_to_text gives an index: each choice is its own context (Winogrande's partial scoring).
    let multipleInput: Bool
    let multipleTarget: Bool

    init(config: TaskConfig, prompter: TaskPrompter, firstDoc: Document, numFewshot: Int, fewshotPool: [Document]?, poolName: String,
         rnd: PythonRandom = PythonRandom(seed: 1234)) throws {
        self.config = config
        self.prompter = prompter
        self.numFewshot = numFewshot
        if config.outputType == .multipleChoice, config.docToChoice != nil, case .index = try prompter.text(firstDoc) {
            multipleInput = true
        } else {
            multipleInput = false
        }
        if case .list = try prompter.target(firstDoc) { multipleTarget = true } else { multipleTarget = false }
        if let fewshotPool {
            sampler = FewshotSampler(task: config.name, pool: fewshotPool, poolName: poolName, method: config.fewshotSampler, rnd: rnd)
        }
    }

    private func fail(_ doc: Document, _ field: String, _ why: String) -> EvalError {
        EvalError(.data, "\(config.name): \(doc.location): \(field): \(why)")
    }

    /// The few-shot examples and the description: everything before the document's own question.
    private mutating func prefix(for doc: Document) throws -> String {
        var context = try prompter.description(doc)
        guard numFewshot > 0, config.outputType != .loglikelihoodRolling else { return context }
        guard var sampler else { return context }
        let shots: [Document]
        if config.style == .lighteval {
            // lighteval compares formatted documents (`x != formatted_doc`) and sorts by gold text.
            let evaluated = try formatted(doc)
            shots = try sampler.sample(lighteval: numFewshot, same: { try formatted($0) == evaluated }, label: { try shot($0).answer ?? "" })
        } else {
            let passEvalDoc = config.fewshotSplit == config.testSplit
            shots = try sampler.sample(numFewshot, excluding: passEvalDoc ? doc : nil)
        }
        self.sampler = sampler
        let targetDelimiter = config.fewshotTargetDelimiter ?? config.targetDelimiter
        let fewshotDelimiter = config.fewshotFewshotDelimiter ?? config.fewshotDelimiter
        for example in shots {
            let (question, answer) = try shot(example)
            context += question + (answer != nil ? targetDelimiter : "")
            if let answer { context += answer + fewshotDelimiter }
        }
        return context
    }

    /// A few-shot example's question and answer text.
    private func shot(_ shot: Document) throws -> (question: String, answer: String?) {
        var choices: [String]? = config.docToChoice != nil ? try prompter.choices(shot) : nil
        let question: String
        switch try prompter.text(shot) {
        case .text(let s) where !multipleInput: question = s
        case .index(let i) where multipleInput:
            guard let c = choices, c.indices.contains(i) else { throw fail(shot, "doc_to_text", "index \(i) is not a choice") }
            question = c[i]
            choices = nil
        default: throw fail(shot, "doc_to_text", "expected text")
        }
        let answer: String?
        switch try prompter.target(shot) {
        case .text(let s): answer = s.isEmpty ? nil : s
        case .index(let i):
            guard let c = choices, !c.isEmpty else { throw fail(shot, "doc_to_target", "an index needs doc_to_choice") }
            guard c.indices.contains(i) else { throw fail(shot, "doc_to_target", "index \(i) is out of range for \(c.count) choices") }
            answer = c[i]
        case .list(let items):
            guard case .string(let s)? = items.first else { throw fail(shot, "doc_to_target", "the first target must be text") }
            answer = s
        }
        return (question, answer)
    }

    /// What lighteval's Doc holds of a document: instruction, query, choices, gold.
    private struct Formatted: Equatable {
        var description: String
        var text: FieldValue
        var choices: [String]?
        var target: FieldValue
    }

    private func formatted(_ doc: Document) throws -> Formatted {
        Formatted(description: try prompter.description(doc), text: try prompter.text(doc),
                  choices: config.docToChoice != nil ? try prompter.choices(doc) : nil, target: try prompter.target(doc))
    }

    mutating func build(docId: Int, doc: Document) throws -> DocRequests {
        var r = DocRequests(docId: docId, doc: doc)
        let context = try prefix(for: doc)
        switch config.outputType {
        case .multipleChoice:
            r.choices = try prompter.choices(doc)
            guard !r.choices.isEmpty else { throw fail(doc, "doc_to_choice", "no choices") }
            let goldValue: FieldValue
            if multipleInput {
                guard case .text(let target) = try prompter.target(doc) else { throw fail(doc, "doc_to_target", "expected the shared continuation text") }
                r.pairs = r.choices.map { (context + $0, config.targetDelimiter + target) }
                goldValue = try prompter.text(doc)
            } else {
                guard case .text(let question) = try prompter.text(doc) else { throw fail(doc, "doc_to_text", "expected text") }
                r.pairs = r.choices.map { (context + question, config.targetDelimiter + $0) }
                goldValue = try prompter.target(doc)
            }
            let n = r.choices.count
            switch goldValue {
            case .index(let i): r.gold = .index(i >= 0 && i < n ? i : -100)
            case .text(let s): r.gold = .index(r.choices.firstIndex(of: s) ?? -100)
            case .list(let items): r.gold = .indices(items.map { if case .int(let i) = $0, i < n { return i }; return -100 })
            }
        case .loglikelihood:
            guard case .text(let question) = try prompter.text(doc) else { throw fail(doc, "doc_to_text", "expected text") }
            guard case .text(let target) = try prompter.target(doc) else { throw fail(doc, "doc_to_target", "expected text") }
            r.pairs = [(context + question, target)]
        case .loglikelihoodRolling:
            guard case .text(let target) = try prompter.target(doc) else { throw fail(doc, "doc_to_target", "expected text") }
            r.rollingText = target
            r.countText = try config.countText.map { try prompter.render($0, doc, field: "count_text") } ?? target
        case .generateUntil:
            guard case .text(let question) = try prompter.text(doc) else { throw fail(doc, "doc_to_text", "expected text") }
            r.generationContext = context + question
            switch try prompter.target(doc) {
            case .index(let i):
                if config.docToChoice != nil {
                    let c = try prompter.choices(doc)
                    guard c.indices.contains(i) else { throw fail(doc, "doc_to_target", "index \(i) out of range") }
                    r.gold = .texts([c[i]])
                } else {
                    r.gold = .texts([String(i)])
                }
            case .text(let s): r.gold = .texts([s])
            case .list(let items): r.gold = .texts(items.map { $0.stringValue ?? $0.pythonString })
            }
        }
        return r
    }
}
