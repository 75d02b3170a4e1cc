import Foundation

/// Built-in filters (`value | name(args)`), following jinja2 3.1 plus transformers' `tojson`.
enum Filters {
    static let names: Set<String> = [
        "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape", "first",
        "float", "forceescape", "indent", "int", "items", "join", "last", "length", "list", "lower", "map", "max",
        "min", "pprint", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr", "sort",
        "string", "sum", "title", "tojson", "trim", "unique", "upper", "wordcount",
    ]

    /// Filters that are generator functions in jinja2; their results are one-shot iterators.
    private static let lazyFilters: Set<String> = ["map", "select", "reject", "selectattr", "rejectattr", "unique", "items", "batch", "reverse"]

    static func apply(_ name: String, _ value: JinjaValue, _ args: Arguments, _ interp: Interpreter) throws -> JinjaValue {
        let result = try applyEager(name, value, args, interp)
        if lazyFilters.contains(name), case .array(let items) = result {
            return .opaque(JinjaOpaque(.iterator(IteratorState(items))))
        }
        return result
    }

    /// Filters that print their input (or arguments) as a string: checked against the output limit first.
    private static let printing: Set<String> = [
        "capitalize", "center", "e", "escape", "forceescape", "indent", "join", "lower", "pprint", "replace", "safe",
        "string", "title", "tojson", "trim", "upper", "wordcount", "int", "float",
    ]

    private static func applyEager(_ name: String, _ value: JinjaValue, _ args: Arguments, _ interp: Interpreter) throws -> JinjaValue {
        func bind(_ params: [String]) throws -> [JinjaValue?] { try args.bind(params, function: name) }
        if printing.contains(name), name != "join" { try interp.checkPrintable(value) }
        for v in args.positional { try interp.checkPrintable(v) }
        for (_, v) in args.keyword { try interp.checkPrintable(v) }
        let maxBytes = interp.options.limits.maxOutputBytes
        switch name {
        case "safe": return value.markupText != nil ? value : .markup(value.pythonString)
        case "escape", "e": return value.markupText != nil ? value : .markup(htmlEscape(value.pythonString))
        case "forceescape": return .markup(htmlEscape(value.pythonString))
        default: break
        }
        let value = value.plain
        // jinja2 yields nothing for a falsy sequence (so `none|selectattr(...)` is empty, not an error).
        if !value.isTruthy, ["map", "select", "reject", "selectattr", "rejectattr"].contains(name) {
            return .array([])
        }
        switch name {
        case "tojson":
            let a = try bind(["ensure_ascii", "indent", "separators", "sort_keys"])
            var o = JSONOptions()
            o.ensureASCII = a[0]?.isTruthy ?? false
            switch a[1] {
            case .int(let n)?:
                try interp.checkRepeat(1, n, "tojson indent")
                o.indent = String(repeating: " ", count: max(n, 0))
            case .string(let s)?: o.indent = s
            default: break
            }
            if o.indent != nil { o.itemSeparator = "," }
            o.maxBytes = maxBytes
            if case .array(let seps)? = a[2], seps.count == 2, case .string(let i) = seps[0], case .string(let k) = seps[1] {
                o.itemSeparator = i
                o.keySeparator = k
            }
            o.sortKeys = a[3]?.isTruthy ?? false
            return .string(try value.pythonJSON(o))
        case "trim":
            let chars = try bind(["chars"])[0]
            return .string(PyString.strip(value.pythonString, chars.flatMap { $0 == .null ? nil : $0.pythonString }))
        case "length", "count":
            return .int(try length(value))
        case "join":
            let a = try bind(["d", "attribute"])
            var items = try iterate(value)
            if let attr = a[1] { items = try items.map { try attribute(of: $0, attr, interp) } }
            var out = ""
            let sep = a[0]?.pythonString ?? ""
            for (i, v) in items.enumerated() {
                if i > 0 { out += sep }
                try interp.append(v, to: &out)
            }
            return .string(out)
        case "map": return .array(try map(value, args, interp))
        case "select", "reject":
            return .array(try iterate(value).filter { v in
                try runTest(v, args.positional, args.keyword, interp) == (name == "select")
            })
        case "selectattr", "rejectattr":
            guard let attr = args.positional.first else { throw TemplateError(.type, "\(name) needs an attribute name") }
            return .array(try iterate(value).filter { v in
                let x = try attribute(of: v, attr, interp)
                return try runTest(x, Array(args.positional.dropFirst()), args.keyword, interp) == (name == "selectattr")
            })
        case "items":
            switch value {
            case .undefined: return .array([])
            case .object(let o): return .array(o.entries.map { .array([$0, $1]) })
            default: throw TemplateError(.type, "Can only get item pairs from a mapping.")
            }
        case "dictsort":
            let a = try bind(["case_sensitive", "by", "reverse"])
            guard case .object(let o) = value else { throw TemplateError(.type, "dictsort needs a mapping") }
            let byValue = a[1]?.pythonString == "value"
            if let by = a[1], !["key", "value"].contains(by.pythonString) {
                throw TemplateError(.type, "You can only sort by either 'key' or 'value'")
            }
            let pairs = o.entries.map { JinjaValue.array([$0, $1]) }
            return .array(try sorted(pairs, reverse: a[2]?.isTruthy ?? false, caseSensitive: a[0]?.isTruthy ?? false) {
                guard case .array(let p) = $0 else { return $0 }
                return byValue ? p[1] : p[0]
            })
        case "first":
            if case .string(let s) = value { return s.unicodeScalars.first.map { .string(String($0)) } ?? .undefined }
            if case .opaque(let o) = value, case .iterator(let state) = o.kind { return state.next() ?? .undefined }
            return try iterate(value).first ?? .undefined
        case "last":
            if case .string(let s) = value { return s.unicodeScalars.last.map { .string(String($0)) } ?? .undefined }
            if case .opaque(let o) = value, case .iterator = o.kind {
                throw TemplateError(.type, "'generator' object is not reversible")
            }
            return try iterate(value).last ?? .undefined
        case "default", "d":
            let a = try bind(["default_value", "boolean"])
            let useDefault = value.isUndefined || ((a[1]?.isTruthy ?? false) && !value.isTruthy)
            return useDefault ? (a[0] ?? .string("")) : value
        case "upper": return .string(value.pythonString.uppercased())
        case "lower": return .string(value.pythonString.lowercased())
        case "capitalize": return .string(PyString.capitalize(value.pythonString))
        case "title": return .string(titleFilter(value.pythonString))
        case "replace":
            let a = try bind(["old", "new", "count"])
            let count = a[2].flatMap { $0 == .null ? nil : $0.asInt } ?? -1
            return .string(try PyString.replace(
                value.pythonString, a[0]?.pythonString ?? "", a[1]?.pythonString ?? "", count: count, maxBytes: maxBytes))
        case "indent":
            let a = try bind(["width", "first", "blank"])
            let s = value.pythonString
            let pad = a[0]?.asInt ?? 0
            // Worst case one pad per line: refuse before building it.
            try interp.checkRepeat(max(pad, a[0].map { $0.pythonString.utf8.count } ?? 4) + 1, s.utf8.count + 1, "indent")
            return .string(indent(s, width: a[0] ?? .int(4), first: a[1]?.isTruthy ?? false, blank: a[2]?.isTruthy ?? false))
        case "int":
            let a = try bind(["default", "base"])
            return toInt(value, base: a[1]?.asInt ?? 10) ?? a[0] ?? .int(0)
        case "float":
            let a = try bind(["default"])
            return toFloat(value).map { .double($0) } ?? a[0] ?? .double(0)
        case "string": return .string(value.pythonString)
        case "pprint": return .string(value.pythonRepr)
        case "list": return .array(try iterate(value))
        case "unique":
            let a = try bind(["case_sensitive", "attribute"])
            var seen: [JinjaValue] = []
            var out: [JinjaValue] = []
            for v in try iterate(value) {
                var key = try a[1].map { try attribute(of: v, $0, interp) } ?? v
                if !(a[0]?.isTruthy ?? false) { key = foldCase(key) }
                if !seen.contains(where: { $0.pyEquals(key) }) {
                    seen.append(key)
                    out.append(v)
                }
            }
            return .array(out)
        case "abs":
            switch value {
            case .int(let i):
                guard i != .min else { throw TemplateError(.type, "integer overflow in abs()") }
                return .int(abs(i))
            case .bool(let b): return .int(b ? 1 : 0)
            case .double(let d): return .double(abs(d))
            default: throw TemplateError(.type, "bad operand type for abs(): '\(value.typeName)'")
            }
        case "round": return try round(value, try bind(["precision", "method"]))
        case "sum":
            let a = try bind(["attribute", "start"])
            var total = a[1] ?? .int(0)
            for v in try iterate(value) {
                total = try interp.binary(.add, total, try a[0].map { try attribute(of: v, $0, interp) } ?? v)
            }
            return total
        case "min", "max":
            let a = try bind(["case_sensitive", "attribute"])
            let items = try sorted(try iterate(value), reverse: false, caseSensitive: a[0]?.isTruthy ?? false) { v in
                try a[1].map { attr in try attribute(of: v, attr, interp) } ?? v
            }
            return (name == "min" ? items.first : items.last) ?? .undefined
        case "sort":
            let a = try bind(["reverse", "case_sensitive", "attribute"])
            return .array(try sorted(try iterate(value), reverse: a[0]?.isTruthy ?? false, caseSensitive: a[1]?.isTruthy ?? false) { v in
                try a[2].map { attr in try attribute(of: v, attr, interp) } ?? v
            })
        case "reverse":
            if case .string(let s) = value { return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            return .array(try iterate(value).reversed())
        case "batch":
            let a = try bind(["linecount", "fill_with"])
            guard let n = a[0]?.asInt, n > 0 else { throw TemplateError(.type, "batch needs a positive line count") }
            var rows: [JinjaValue] = []
            var row: [JinjaValue] = []
            for v in try iterate(value) {
                row.append(v)
                if row.count == n { rows.append(.array(row)); row = [] }
            }
            if !row.isEmpty {
                if let fill = a[1] {
                    try interp.checkListLength(n)
                    row += Array(repeating: fill, count: n - row.count)
                }
                rows.append(.array(row))
            }
            return .array(rows)
        case "wordcount":
            var count = 0, inWord = false
            for c in value.pythonString.unicodeScalars {
                let isWord = c == "_" || c.properties.isAlphabetic || c.properties.numericType != nil
                if isWord && !inWord { count += 1 }
                inWord = isWord
            }
            return .int(count)
        case "center":
            let width = try bind(["width"])[0]?.asInt ?? 80
            let s = value.pythonString
            let len = s.unicodeScalars.count
            guard width > len else { return .string(s) }
            try interp.checkResultSize(width, "center")
            let marg = width - len
            let left = marg / 2 + (marg & width & 1)
            return .string(String(repeating: " ", count: left) + s + String(repeating: " ", count: marg - left))
        case "attr":
            // Attribute only, never an item: a dict's keys are not attributes (jinja2's sandboxed getattr).
            guard let n = try bind(["name"])[0] else { throw TemplateError(.type, "attr needs a name") }
            if case .object = value { return .undefined }
            return try interp.getAttribute(value, n.pythonString)
        default:
            throw TemplateError(.syntax, "No filter named '\(name)'.")
        }
    }

    // MARK: Helpers

    /// Python `list(value)`; undefined iterates as empty.
    static func iterate(_ v: JinjaValue) throws -> [JinjaValue] {
        if case .opaque(let o) = v, case .iterator(let state) = o.kind { return state.drain() }
        switch v.plain {
        case .array(let a): return a
        case .object(let o): return o.keys
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        case .undefined: return []
        default: throw TemplateError(.type, "'\(v.typeName)' object is not iterable")
        }
    }

    static func length(_ v: JinjaValue) throws -> Int {
        switch v.plain {
        case .array(let a): return a.count
        case .object(let o): return o.count
        case .string(let s): return s.unicodeScalars.count
        case .undefined: return 0
        case .opaque(let o):
            if case .namespace(let ns) = o.kind { return ns.attributes.count }
            fallthrough
        default: throw TemplateError(.type, "object of type '\(v.typeName)' has no len()")
        }
    }

    /// jinja2's attribute getter: dotted path, integer parts index into lists.
    static func attribute(of v: JinjaValue, _ path: JinjaValue, _ interp: Interpreter) throws -> JinjaValue {
        if let i = path.asInt { return try interp.getItem(v, .int(i)) }
        var cur = v
        for part in path.pythonString.split(separator: ".", omittingEmptySubsequences: false) {
            let key: JinjaValue = Int(part).map { .int($0) } ?? .string(String(part))
            if cur.isUndefined { return .undefined }
            cur = try interp.getItem(cur, key)
        }
        return cur
    }

    /// `select`/`reject` style test call: the first positional is the test name (none → truthiness).
    private static func runTest(
        _ v: JinjaValue, _ positional: [JinjaValue], _ keyword: [(String, JinjaValue)], _ interp: Interpreter
    ) throws -> Bool {
        guard let first = positional.first else { return v.isTruthy }
        let name = first.pythonString
        guard Tests.names.contains(name) else { throw TemplateError(.syntax, "No test named '\(name)'.") }
        return try Tests.apply(name, v, Arguments(positional: Array(positional.dropFirst()), keyword: keyword), interp)
    }

    private static func map(_ value: JinjaValue, _ args: Arguments, _ interp: Interpreter) throws -> [JinjaValue] {
        let items = try iterate(value)
        if let attr = args.keyword.first(where: { $0.0 == "attribute" })?.1 {
            let def = args.keyword.first(where: { $0.0 == "default" })?.1
            return try items.map { v in
                let x = try attribute(of: v, attr, interp)
                return x.isUndefined ? (def ?? x) : x
            }
        }
        guard let first = args.positional.first else { return items }
        let name = first.pythonString
        guard names.contains(name) else { throw TemplateError(.syntax, "No filter named '\(name)'.") }
        let rest = Arguments(positional: Array(args.positional.dropFirst()), keyword: args.keyword)
        return try items.map { try apply(name, $0, rest, interp) }
    }

    /// Strings compared case-insensitively unless asked otherwise (jinja2's `ignore_case`).
    private static func foldCase(_ v: JinjaValue) -> JinjaValue {
        if case .string(let s) = v { return .string(s.lowercased()) }
        return v
    }

    /// Stable sort with Python comparison of the keys.
    static func sorted(
        _ items: [JinjaValue], reverse: Bool, caseSensitive: Bool, key: (JinjaValue) throws -> JinjaValue
    ) throws -> [JinjaValue] {
        let keyed = try items.enumerated().map { (i, v) -> (Int, JinjaValue, JinjaValue) in
            let k = try key(v)
            return (i, caseSensitive ? k : foldCase(k), v)
        }
        var failure: Error? = nil
        let result = keyed.sorted { a, b in
            do {
                let c = try a.1.pyCompare(b.1)
                if c == 0 { return a.0 < b.0 }
                return reverse ? c > 0 : c < 0
            } catch {
                failure = failure ?? error
                return false
            }
        }
        if let failure { throw failure }
        return result.map { $0.2 }
    }

    /// jinja2's `title`: upper-case the first letter of each word, words split on `-`, whitespace, and brackets.
    private static func titleFilter(_ s: String) -> String {
        var out = ""
        var atWordStart = true
        for c in s.unicodeScalars {
            let isBoundary = c == "-" || c == "(" || c == "{" || c == "[" || c == "<" || isPythonSpace(c)
            if isBoundary {
                out.unicodeScalars.append(c)
                atWordStart = true
            } else {
                out += atWordStart ? c.properties.uppercaseMapping : c.properties.lowercaseMapping
                atWordStart = false
            }
        }
        return out
    }

    /// jinja2 3.1 `indent`: indents lines after the first; blank lines only with `blank=True`.
    private static func indent(_ s: String, width: JinjaValue, first: Bool, blank: Bool) -> String {
        let pad: String
        if case .string(let p) = width { pad = p } else { pad = String(repeating: " ", count: max(width.asInt ?? 4, 0)) }
        let lines = PyString.splitlines(s + "\n")
        var rv: String
        if blank {
            rv = lines.joined(separator: "\n" + pad)
        } else {
            rv = lines.first ?? ""
            let rest = lines.dropFirst()
            if !rest.isEmpty {
                rv += "\n" + rest.map { $0.isEmpty ? $0 : pad + $0 }.joined(separator: "\n")
            }
        }
        return first ? pad + rv : rv
    }

    private static func toInt(_ v: JinjaValue, base: Int) -> JinjaValue? {
        switch v {
        case .int, .bool: return .int(v.asInt!)
        case .double(let d): return Int(exactly: d.rounded(.towardZero)).map { .int($0) }
        case .string(let s):
            let t = PyString.strip(s, nil).replacingOccurrences(of: "_", with: "")
            if let i = Int(t, radix: base) { return .int(i) }
            if let d = toFloat(v), d.isFinite, abs(d) < 9.2e18 { return .int(Int(d.rounded(.towardZero))) }
            return nil
        default: return nil
        }
    }

    private static func toFloat(_ v: JinjaValue) -> Double? {
        switch v {
        case .int, .bool, .double: return v.asDouble
        case .string(let s):
            let t = PyString.strip(s, nil).lowercased()
            switch t {
            case "inf", "+inf", "infinity", "+infinity": return .infinity
            case "-inf", "-infinity": return -.infinity
            case "nan", "+nan", "-nan": return .nan
            default: return t.contains("x") ? nil : Double(t.replacingOccurrences(of: "_", with: ""))
            }
        default: return nil
        }
    }

    private static func round(_ v: JinjaValue, _ a: [JinjaValue?]) throws -> JinjaValue {
        let precision = a[0]?.asInt ?? 0
        let method = a[1]?.pythonString ?? "common"
        guard ["common", "ceil", "floor"].contains(method) else {
            throw TemplateError(.type, "method must be common, ceil or floor")
        }
        if method == "common", case .int(let i) = v { return .int(i) }
        guard let d = v.asDouble else { throw TemplateError(.type, "type \(v.typeName) doesn't define __round__ method") }
        let scale = pow(10.0, Double(precision))
        switch method {
        case "ceil": return .double((d * scale).rounded(.up) / scale)
        case "floor": return .double((d * scale).rounded(.down) / scale)
        default: return .double((d * scale).rounded(.toNearestOrEven) / scale)
        }
    }

    static func htmlEscape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
