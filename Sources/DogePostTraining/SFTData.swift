import Foundation
import DogeJinja
import DogeTokenizers

/// One tokenized SFT example: ids and labels (−100 where the token is no target).
public struct SFTExample: Sendable, Equatable {
    public var ids: [Int]
    public var labels: [Int]
    public init(ids: [Int], labels: [Int]) { self.ids = ids; self.labels = labels }
}

/// How SFTTrainer (TRL 1.16) turns rows into examples.
public struct SFTDataOptions: Sendable {
    public var textField = "text"
    public var maxLength: Int? = 1024
    /// nil: on for prompt/completion rows (TRL's default).
    public var completionOnlyLoss: Bool?
    public var assistantOnlyLoss = false
    public var eosToken: String?
    public init() {}
}

public enum SFTData {
    /// Tokenizes every row, builds labels, truncates (unless packing, which cuts each sequence to
    /// max_length itself), and drops rows left without a target. Returns the examples and how many
    /// rows were dropped.
    public static func examples(rows: [DataRow], tokenizer: Tokenizer, options o: SFTDataOptions, packing: Bool) throws
        -> (examples: [SFTExample], dropped: Int) {
        guard let eos = o.eosToken ?? tokenizer.eosToken else {
            throw PostTrainingError.invalidOption(key: "eos_token", problem: "the tokenizer defines no eos_token; set eos_token in the recipe")
        }
        var marked: String?
        if o.assistantOnlyLoss {
            let template = (try? tokenizer.chatTemplate()) ?? ""
            guard let m = AssistantMask.markedTemplate(template) else {
                throw PostTrainingError.invalidOption(key: "assistant_only_loss", problem: "the chat template has no {% generation %} block, so assistant tokens cannot be found; use a template that marks assistant turns with {% generation %}…{% endgeneration %}, or set assistant_only_loss: false")
            }
            marked = m
        }
        var out: [SFTExample] = []
        var dropped = 0
        for row in rows {
            var ids: [Int], mask: [Bool]
            var assistant: [Bool]?
            let tools = row.tools
            if row["prompt"] != nil {
                let prompt = try row.turns("prompt"), completion = try row.turns("completion")
                let promptIDs: [Int], fullIDs: [Int]
                switch (prompt, completion) {
                case let (.messages(p), .messages(c)):
                    promptIDs = try render(tokenizer, p, tools: tools, generationPrompt: true, row: row, field: "prompt")
                    if let marked {
                        (fullIDs, assistant) = try AssistantMask.encode(tokenizer, template: marked, messages: p + c, tools: tools, row: row, field: "completion")
                    } else {
                        fullIDs = try render(tokenizer, p + c, tools: tools, generationPrompt: false, row: row, field: "completion")
                    }
                case let (.text(p), .text(c)):
                    promptIDs = tokenizer.encode(p)
                    fullIDs = tokenizer.encode(p + (c.hasSuffix(eos) ? c : c + eos))
                default:
                    throw row.error("completion", "prompt and completion must both be strings or both be message lists")
                }
                var common = 0
                while common < min(promptIDs.count, fullIDs.count) && promptIDs[common] == fullIDs[common] { common += 1 }
                ids = fullIDs
                let completionOnly = o.completionOnlyLoss ?? true
                mask = (0..<fullIDs.count).map { !completionOnly || $0 >= common }
            } else if row["messages"] != nil {
                guard case .messages(let m) = try row.turns("messages") else {
                    throw row.error("messages", "expected a list of {role, content} messages")
                }
                if let marked {
                    (ids, assistant) = try AssistantMask.encode(tokenizer, template: marked, messages: m, tools: tools, row: row, field: "messages")
                } else {
                    ids = try render(tokenizer, m, tools: tools, generationPrompt: false, row: row, field: "messages")
                }
                mask = Array(repeating: true, count: ids.count)
            } else if let v = row[o.textField] {
                guard case .string(let text) = v else { throw row.error(o.textField, "expected a string") }
                ids = tokenizer.encode(text.hasSuffix(eos) ? text : text + eos)
                mask = Array(repeating: true, count: ids.count)
            } else {
                throw row.error(o.textField, "missing: an SFT row needs \"\(o.textField)\", \"messages\", or \"prompt\" + \"completion\"")
            }
            if o.assistantOnlyLoss {
                guard let a = assistant else {
                    throw row.error(row["messages"] != nil ? "messages" : o.textField, "assistant_only_loss needs conversational rows (messages, or prompt/completion message lists)")
                }
                guard a.contains(true) else {
                    throw row.error(row["messages"] != nil ? "messages" : "completion", "no assistant tokens: the conversation has no assistant turn (assistant_only_loss trains on assistant turns only)")
                }
                mask = zip(mask, a).map { $0 && $1 }
            }
            var labels = zip(ids, mask).map { $1 ? $0 : -100 }
            if let L = o.maxLength, !packing, ids.count > L {
                ids = Array(ids.prefix(L)); labels = Array(labels.prefix(L))
            }
            if packing, let L = o.maxLength, ids.count > L {
                ids = Array(ids.prefix(L)); labels = Array(labels.prefix(L))
            }
            // Packing keeps every non-empty sequence (TRL filters only before packing when truncating).
            if ids.isEmpty || (!packing && !labels.contains(where: { $0 != -100 })) { dropped += 1; continue }
            out.append(SFTExample(ids: ids, labels: labels))
        }
        return (out, dropped)
    }

    static func render(_ tokenizer: Tokenizer, _ messages: [JinjaValue], tools: [JinjaValue]?, generationPrompt: Bool,
                       row: DataRow, field: String) throws -> [Int] {
        do {
            return try tokenizer.applyChatTemplateIDs(messages: messages, tools: tools, addGenerationPrompt: generationPrompt)
        } catch {
            throw row.error(field, "the chat template failed: \(error)")
        }
    }

    /// TRL's `bfd` packing (`_pack_bfd`, truncate overflow): sequences sorted by length
    /// (descending, stable), each placed in the bin with the least remaining space that fits
    /// (oldest such bin first), else a new bin. Returns bins of example indices, in creation order.
    public static func packBFD(lengths: [Int], capacity L: Int) -> [[Int]] {
        let order = lengths.indices.filter { lengths[$0] > 0 }.sorted { lengths[$0] != lengths[$1] ? lengths[$0] > lengths[$1] : $0 < $1 }
        var bins: [[Int]] = []
        var spaceToBins: [Int: [Int]] = [:]   // remaining space → bin indices, FIFO
        var available = Set<Int>()            // spaces with at least one bin (besides a fresh bin of L)
        for index in order {
            let length = min(lengths[index], L)
            let space = available.filter { $0 >= length }.min() ?? L
            let bin: Int
            if space < L {
                bin = spaceToBins[space]!.removeFirst()
                if spaceToBins[space]!.isEmpty { available.remove(space) }
            } else {
                bins.append([]); bin = bins.count - 1
            }
            bins[bin].append(index)
            let rest = space - length
            spaceToBins[rest, default: []].append(bin)
            if rest > 0 { available.insert(rest) }
        }
        return bins
    }
}
