import DogeJinja
import Foundation

/// What a `doc_to_*` field yields, with Python's types: lm-eval branches on them.
public enum FieldValue: Sendable, Equatable {
    case text(String)
    case index(Int)
    case list([JinjaValue])
}

/// Renders a task's fields for documents exactly as lm-eval's ConfigurableTask: a field naming a
/// column returns the column's value; otherwise it is a Jinja template (jinja2 defaults:
/// no block trimming, trailing newline kept, undefined variables are errors) whose text is
/// read back as an int (`doc_to_text`/`doc_to_target` when digits and the task has choices), a
/// Python literal (`doc_to_choice`; `doc_to_target` when it looks like a list) or kept as text.
final class TaskPrompter: @unchecked Sendable {
    let config: TaskConfig
    /// The dataset's columns (lm-eval's `features`): a field equal to one is a column lookup.
    var features: Set<String>
    private var templates: [String: Template] = [:]

    static let templateOptions: TemplateOptions = {
        var options = TemplateOptions(trimBlocks: false, lstripBlocks: false, keepTrailingNewline: true)
        options.strictUndefined = true
        options.filters["regex_replace"] = { value, args, kwargs in
            let named = Dictionary(kwargs, uniquingKeysWith: { $1 })
            guard let pattern = (args.first ?? named["pattern"])?.stringValue, let repl = (args.count > 1 ? args[1] : named["repl"])?.stringValue else {
                throw TemplateError(.type, "regex_replace(pattern, repl, count=0) needs a pattern and a replacement")
            }
            var count = 0
            if case .int(let n)? = args.count > 2 ? args[2] : named["count"] { count = n }
            guard let text = value.stringValue else { throw TemplateError(.type, "regex_replace applies to a string") }
            do { return .string(try PythonRegex.sub(pattern: pattern, replacement: repl, in: text, count: count)) } catch {
                throw TemplateError(.type, "\(error)")
            }
        }
        return options
    }()

    init(config: TaskConfig, features: Set<String>) throws {
        self.config = config
        self.features = features
        // Parse every template now: a template error stops the run before any model work.
        let fields: [(String, String?)] = [
            ("doc_to_text", Self.templateSource(config.docToText)), ("doc_to_target", Self.templateSource(config.docToTarget)),
            ("doc_to_choice", Self.templateSource(config.docToChoice)), ("description", config.description),
            ("count_text", config.countText),
        ] + config.processDocs.map { ("process_docs.\($0.name)", $0.template) }
        for case let (field, source?) in fields where !features.contains(source) {
            _ = try template(source, field: field)
        }
    }

    private static func templateSource(_ spec: FieldSpec?) -> String? {
        if case .template(let s)? = spec { return s }
        return nil
    }

    private func template(_ source: String, field: String) throws -> Template {
        if let t = templates[source] { return t }
        do {
            let t = try Template(source, options: Self.templateOptions)
            templates[source] = t
            return t
        } catch {
            throw EvalError(.template, "\(config.name): \(config.file.path): field '\(field)': template error: \(error)")
        }
    }

    func render(_ source: String, _ doc: Document, field: String) throws -> String {
        let t = try template(source, field: field)
        do { return try t.render(doc.fields) } catch {
            let columns = doc.fields.keys.map(\.pythonString).joined(separator: ", ")
            var hint = ""
            if let e = error as? TemplateError, e.kind == .undefined { hint = " (the row's columns: \(columns))" }
            throw EvalError(.data, "\(config.name): \(doc.location): \(field): \(error)\(hint)")
        }
    }

    /// `process_docs`: adds the derived fields to a document (later ones see earlier ones).
    func process(_ doc: Document) throws -> Document {
        guard !config.processDocs.isEmpty else { return doc }
        var out = doc
        var added: [(String, JinjaValue)] = []
        for field in config.processDocs {
            let text = try render(field.template, out, field: "process_docs.\(field.name)")
            var value = JinjaValue.string(text)
            if field.literal {
                do { value = try PythonLiteral.parse(text) } catch let e as PythonLiteral.ParseError {
                    throw EvalError(.data, "\(config.name): \(doc.location): process_docs.\(field.name): the rendering is not a Python literal (\(e.message)): \(text.prefix(120).debugDescription)")
                }
            }
            added.append((field.name, value))
            var pairs = Array(out.fields.entries.map { ($0.0.pythonString, $0.1) })
            if let i = pairs.firstIndex(where: { $0.0 == field.name }) { pairs[i].1 = value } else { pairs.append((field.name, value)) }
            out.fields = OrderedObject(pairs)
        }
        return out
    }

    private func column(_ name: String, _ doc: Document, field: String) throws -> JinjaValue {
        guard let v = doc[name], v != .null else {
            throw EvalError(.data, "\(config.name): \(doc.location): \(field): the row has no column '\(name)'")
        }
        return v
    }

    private func fieldValue(_ v: JinjaValue, _ doc: Document, field: String) throws -> FieldValue {
        switch v {
        case .string(let s): return .text(s)
        case .int(let i): return .index(i)
        case .bool(let b): return .index(b ? 1 : 0)
        case .array(let items): return .list(items)
        default: throw EvalError(.data, "\(config.name): \(doc.location): \(field): expected text, an index or a list, got \(v.pythonString.prefix(60))")
        }
    }

    func text(_ doc: Document) throws -> FieldValue {
        switch config.docToText {
        case nil: throw EvalError(.taskFile, "\(config.file.path): field 'doc_to_text' is missing")
        case .int(let i)?: return .index(i)
        case .list?: throw EvalError(.taskFile, "\(config.file.path): field 'doc_to_text' must be a column or a template")
        case .template(let source)?:
            if features.contains(source) { return try fieldValue(try column(source, doc, field: "doc_to_text"), doc, field: "doc_to_text") }
            let s = try render(source, doc, field: "doc_to_text")
            if config.docToChoice != nil, Self.isDigits(s), let i = Int(s) { return .index(i) }
            return .text(s)
        }
    }

    func target(_ doc: Document) throws -> FieldValue {
        switch config.docToTarget {
        case nil: throw EvalError(.taskFile, "\(config.file.path): field 'doc_to_target' is missing")
        case .int(let i)?: return .index(i)
        case .list(let items)?: return .list(items.map(JinjaValue.string))
        case .template(let source)?:
            if features.contains(source) { return try fieldValue(try column(source, doc, field: "doc_to_target"), doc, field: "doc_to_target") }
            let s = try render(source, doc, field: "doc_to_target")
            if config.docToChoice != nil, Self.isDigits(s), let i = Int(s) { return .index(i) }
            if s.count >= 2, s.hasPrefix("["), s.hasSuffix("]"), let v = try? PythonLiteral.parse(s) {
                return try fieldValue(v, doc, field: "doc_to_target")
            }
            return .text(s)
        }
    }

    func choices(_ doc: Document) throws -> [String] {
        let items: [JinjaValue]
        switch config.docToChoice {
        case nil: throw EvalError(.taskFile, "\(config.file.path): field 'doc_to_choice' is missing")
        case .int?: throw EvalError(.taskFile, "\(config.file.path): field 'doc_to_choice' must be a list, a column or a template")
        case .list(let list)?: return list
        case .template(let source)?:
            if features.contains(source) {
                guard case .array(let a) = try column(source, doc, field: "doc_to_choice") else {
                    throw EvalError(.data, "\(config.name): \(doc.location): doc_to_choice: column '\(source)' is not a list")
                }
                items = a
            } else {
                let s = try render(source, doc, field: "doc_to_choice")
                do {
                    guard case .array(let a) = try PythonLiteral.parse(s) else { throw PythonLiteral.ParseError(message: "not a list") }
                    items = a
                } catch let e as PythonLiteral.ParseError {
                    throw EvalError(.data, "\(config.name): \(doc.location): doc_to_choice: the rendering is not a Python list (\(e.message)): \(s.prefix(120).debugDescription)")
                }
            }
        }
        return try items.map {
            guard case .string(let s) = $0 else {
                throw EvalError(.data, "\(config.name): \(doc.location): doc_to_choice: choices must be strings, got \($0.pythonString.prefix(40))")
            }
            return s
        }
    }

    func description(_ doc: Document) throws -> String {
        let source = config.description
        if source.isEmpty { return "" }
        if features.contains(source), case .string(let s)? = doc[source] { return s }
        return try render(source, doc, field: "description")
    }

    /// Python's `str.isdigit()` for the ASCII digits lm-eval's templates print.
    static func isDigits(_ s: String) -> Bool { !s.isEmpty && s.unicodeScalars.allSatisfy { ("0"..."9").contains($0) } }
}

/// Python's `==` on JSON-like values (dicts ignore key order; 1 == 1.0 == True).
func pythonEqual(_ a: JinjaValue, _ b: JinjaValue) -> Bool {
    switch (a, b) {
    case (.object(let x), .object(let y)):
        guard x.count == y.count else { return false }
        for (k, v) in x.entries {
            guard let w = y[k.pythonString], pythonEqual(v, w) else { return false }
        }
        return true
    case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy(pythonEqual)
    case (.int(let x), .double(let y)), (.double(let y), .int(let x)): return Double(x) == y
    case (.bool(let x), .int(let y)), (.int(let y), .bool(let x)): return (x ? 1 : 0) == y
    default: return a == b
    }
}
