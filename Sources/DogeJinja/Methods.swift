/// Python methods callable on values (`s.strip()`, `d.items()`, `loop.cycle(...)`).
/// Only non-mutating methods exist: transformers renders in jinja2's immutable sandbox.
enum Methods {
    /// Calls `obj.name(args)`; returns nil when `obj` has no such method.
    static func call(_ obj: JinjaValue, _ name: String, _ args: Arguments, _ interp: Interpreter) throws -> JinjaValue? {
        switch obj.plain {
        case .string(let s): return try stringMethod(s, name, args, interp)
        case .object(let o): return try dictMethod(o, name, args)
        case .array(let a): return try listMethod(a, name, args)
        case .opaque(let o):
            if case .loop(let state) = o.kind, name == "cycle" {
                guard !args.positional.isEmpty else { throw TemplateError(.type, "no items for cycling given") }
                return args.positional[state.index0 % args.positional.count]
            }
            return nil
        default: return nil
        }
    }

    private static func string(_ v: JinjaValue?, _ what: String) throws -> String? {
        switch v {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw TemplateError(.type, "\(what) arg must be None or str")
        }
    }

    private static func stringMethod(_ s: String, _ name: String, _ args: Arguments, _ interp: Interpreter) throws -> JinjaValue? {
        switch name {
        case "strip", "lstrip", "rstrip":
            let chars = try string(try args.bind(["chars"], function: name)[0], name)
            let f = name == "strip" ? PyString.strip : name == "lstrip" ? PyString.lstrip : PyString.rstrip
            return .string(f(s, chars))
        case "split", "rsplit":
            let a = try args.bind(["sep", "maxsplit"], function: name)
            let sep = try string(a[0], name)
            let maxSplit = a[1]?.asInt ?? -1
            let parts = name == "split" ? try PyString.split(s, sep, maxSplit: maxSplit) : try PyString.rsplit(s, sep, maxSplit: maxSplit)
            return .array(parts.map { .string($0) })
        case "splitlines": return .array(PyString.splitlines(s).map { .string($0) })
        case "startswith", "endswith":
            let a = try args.bind(["prefix", "start", "end"], function: name)
            let candidates: [JinjaValue]
            switch a[0] {
            case .string?: candidates = [a[0]!]
            case .array(let arr)?: candidates = arr
            default: throw TemplateError(.type, "\(name) first arg must be str or a tuple of str")
            }
            return .bool(try candidates.contains { c in
                guard case .string(let p) = c else { throw TemplateError(.type, "tuple for \(name) must only contain str") }
                return name == "startswith" ? s.utf8.starts(with: p.utf8) : s.utf8.reversed().starts(with: p.utf8.reversed())
            })
        case "upper": return .string(s.uppercased())
        case "lower": return .string(s.lowercased())
        case "title": return .string(PyString.title(s))
        case "capitalize": return .string(PyString.capitalize(s))
        case "replace":
            let a = try args.bind(["old", "new", "count"], function: name)
            guard case .string(let old)? = a[0], case .string(let new)? = a[1] else {
                throw TemplateError(.type, "replace() arguments must be str")
            }
            return .string(try PyString.replace(s, old, new, count: a[2]?.asInt ?? -1, maxBytes: interp.options.limits.maxOutputBytes))
        case "find", "rfind", "index", "rindex":
            guard case .string(let sub)? = try args.bind(["sub"], function: name)[0] else {
                throw TemplateError(.type, "must be str")
            }
            let h = Array(s.utf8), n = Array(sub.utf8)
            var pos = PyString.findBytes(h, n)
            if name.hasPrefix("r"), pos != nil {
                while let next = PyString.findBytes(h, n, from: pos! + 1) { pos = next }
            }
            guard let pos else {
                if name.hasSuffix("index") { throw TemplateError(.type, "substring not found") }
                return .int(-1)
            }
            return .int(PyString.scalarIndex(h, pos))
        case "count":
            guard case .string(let sub)? = try args.bind(["sub"], function: name)[0] else {
                throw TemplateError(.type, "must be str")
            }
            return .int(PyString.count(s, sub))
        case "join":
            let items = try Filters.iterate(try args.bind(["iterable"], function: name)[0] ?? .undefined)
            var total = 0
            for case .string(let x) in items { total += x.utf8.count + s.utf8.count }
            try interp.checkResultSize(total, "join()")
            return .string(try items.enumerated().map { i, v -> String in
                guard case .string(let x) = v else {
                    throw TemplateError(.type, "sequence item \(i): expected str instance, \(v.typeName) found")
                }
                return x
            }.joined(separator: s))
        case "isdigit": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType != nil })
        case "isalpha": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic })
        case "isalnum":
            return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil })
        case "isspace": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(isPythonSpace))
        case "islower": return .bool(PyString.isLower(s))
        case "isupper": return .bool(PyString.isUpper(s))
        default: return nil
        }
    }

    private static func dictMethod(_ o: OrderedObject, _ name: String, _ args: Arguments) throws -> JinjaValue? {
        switch name {
        case "items": return .array(o.entries.map { .array([$0, $1]) })
        case "keys": return .array(o.keys)
        case "values": return .array(o.values)
        case "get":
            let a = try args.bind(["key", "default"], function: name)
            return o.value(for: a[0] ?? .undefined) ?? a[1] ?? .null
        default: return nil
        }
    }

    private static func listMethod(_ a: [JinjaValue], _ name: String, _ args: Arguments) throws -> JinjaValue? {
        switch name {
        case "index":
            let x = try args.bind(["value"], function: name)[0] ?? .undefined
            guard let i = a.firstIndex(where: { $0.pyEquals(x) }) else {
                throw TemplateError(.type, "\(x.pythonRepr) is not in list")
            }
            return .int(i)
        case "count":
            let x = try args.bind(["value"], function: name)[0] ?? .undefined
            return .int(a.filter { $0.pyEquals(x) }.count)
        default: return nil
        }
    }
}
