/// Built-in tests (`value is name(args)`), as in jinja2 3.1.
enum Tests {
    static let names: Set<String> = [
        "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "escaped", "even", "false", "filter", "float",
        "ge", "greaterthan", "gt", "in", "integer", "iterable", "le", "lessthan", "lower", "lt", "mapping", "ne", "none",
        "number", "odd", "sameas", "sequence", "string", "test", "true", "undefined", "upper",
        "==", "!=", "<", "<=", ">", ">=",
    ]

    static func apply(_ name: String, _ v: JinjaValue, _ args: Arguments, _ interp: Interpreter) throws -> Bool {
        let v = v.plain
        func arg() throws -> JinjaValue {
            guard let a = try args.bind(["other"], function: name)[0] else {
                throw TemplateError(.type, "test '\(name)' needs an argument")
            }
            return a
        }
        switch name {
        case "defined": return !v.isUndefined
        case "undefined": return v.isUndefined
        case "none": return v == .null
        case "boolean": if case .bool = v { return true } else { return false }
        case "true": return v == .bool(true)
        case "false": return v == .bool(false)
        case "integer": if case .int = v { return true } else { return false }
        case "float": if case .double = v { return true } else { return false }
        case "number": return v.asDouble != nil
        case "string": if case .string = v { return true } else { return false }
        case "mapping": if case .object = v { return true } else { return false }
        case "iterable":
            switch v {
            case .array, .object, .string, .undefined: return true
            default: return false
            }
        case "sequence":
            switch v {
            case .array, .object, .string, .undefined: return true
            default: return false
            }
        case "callable":
            guard case .opaque(let o) = v else { return false }
            switch o.kind {
            case .function, .macro: return true
            default: return false
            }
        case "escaped": return false
        case "even", "odd":
            guard let i = v.asInt else { throw TemplateError(.type, "test '\(name)' needs an integer") }
            return (i % 2 == 0) == (name == "even")
        case "divisibleby":
            guard let i = v.asInt, let n = try arg().asInt else { throw TemplateError(.type, "divisibleby needs integers") }
            if n == 0 { throw TemplateError(.type, "integer division or modulo by zero") }
            return i % n == 0
        case "eq", "equalto", "==": return v.pyEquals(try arg())
        case "ne", "!=": return !v.pyEquals(try arg())
        case "lt", "lessthan", "<": return try v.pyCompare(try arg(), "<") < 0
        case "le", "<=": return try v.pyCompare(try arg(), "<=") <= 0
        case "gt", "greaterthan", ">": return try v.pyCompare(try arg(), ">") > 0
        case "ge", ">=": return try v.pyCompare(try arg(), ">=") >= 0
        case "in": return try interp.contains(try arg(), v)
        case "sameas":
            let other = try arg()
            switch (v, other) {
            case (.opaque(let a), .opaque(let b)): return a === b
            case (.null, .null), (.undefined, .undefined): return true
            case (.bool(let a), .bool(let b)): return a == b
            default: return false
            }
        case "lower": return PyString.isLower(v.pythonString)
        case "upper": return PyString.isUpper(v.pythonString)
        case "filter": return Filters.names.contains(v.pythonString)
        case "test": return names.contains(v.pythonString)
        default: throw TemplateError(.syntax, "No test named '\(name)'.")
        }
    }
}
