import Foundation

/// Variable scope. `for` iterations and macro calls get child scopes; `if` does not (as in jinja2).
final class Scope {
    var vars: [String: JinjaValue]
    let parent: Scope?

    init(_ vars: [String: JinjaValue] = [:], parent: Scope?) {
        self.vars = vars
        self.parent = parent
    }

    func lookup(_ name: String) -> JinjaValue? {
        var s: Scope? = self
        while let cur = s {
            if let v = cur.vars[name] { return v }
            s = cur.parent
        }
        return Globals.all[name]
    }
}

/// A `{% macro %}` (or the `caller` of a call block) with the scope it was defined in.
struct Macro {
    let definition: MacroDefinition
    let closure: Scope

    var name: String { definition.name }
}

/// State behind the `loop` variable.
final class LoopState {
    let items: [JinjaValue]
    var index0 = 0
    let depth: Int

    init(items: [JinjaValue], depth: Int) {
        self.items = items
        self.depth = depth
    }

    func attribute(_ name: String) -> JinjaValue {
        let n = items.count
        switch name {
        case "index": return .int(index0 + 1)
        case "index0": return .int(index0)
        case "revindex": return .int(n - index0)
        case "revindex0": return .int(n - index0 - 1)
        case "first": return .bool(index0 == 0)
        case "last": return .bool(index0 == n - 1)
        case "length": return .int(n)
        case "depth": return .int(depth)
        case "depth0": return .int(depth - 1)
        case "previtem": return index0 > 0 ? items[index0 - 1] : .undefined
        case "nextitem": return index0 + 1 < n ? items[index0 + 1] : .undefined
        default: return .undefined
        }
    }
}

/// Control flow out of a statement list.
enum Flow { case normal, breakLoop, continueLoop }

/// Executes a parsed template. One instance per render; not shared between threads.
final class Interpreter {
    let options: TemplateOptions
    private var loopIterations = 0
    private var callDepth = 0
    private var loopDepth = 0
    /// `DispatchTime` uptime (ns) after which the render stops.
    let deadline: UInt64

    init(options: TemplateOptions) {
        self.options = options
        let budget = UInt64(max(0, min(options.limits.maxRenderSeconds, 1e9)) * 1e9)
        let (d, overflow) = DispatchTime.now().uptimeNanoseconds.addingReportingOverflow(budget)
        self.deadline = overflow ? .max : d
    }

    /// Scopes that define a macro and namespaces: a macro's closure is the scope holding it, and
    /// a namespace can hold itself, so these form reference cycles; they are broken at the end of
    /// the render (found by the fuzzer's leak check).
    private var cyclicScopes: [Scope] = []
    var namespaces: [Namespace] = []

    func render(_ body: [Node], context: [String: JinjaValue]) throws -> String {
        let scope = Scope(context, parent: nil)
        defer {
            for s in cyclicScopes { s.vars.removeAll() }
            for ns in namespaces { ns.attributes = OrderedObject() }
        }
        var out = ""
        _ = try execute(body, scope, &out)
        return out
    }

    // MARK: Limits

    func checkSize(_ s: String) throws {
        if s.utf8.count > options.limits.maxOutputBytes {
            throw TemplateError(.limitExceeded, "output exceeds \(options.limits.maxOutputBytes) bytes")
        }
    }

    /// Refuses values nested deeper than the limit (checked where templates build containers).
    @discardableResult
    func checkDepth(_ v: JinjaValue) throws -> JinjaValue {
        let limit = options.limits.maxValueDepth
        if v.nestingDepth(limit: limit) > limit {
            throw TemplateError(.limitExceeded, "value nested deeper than \(limit) levels")
        }
        return v
    }

    private func countIteration(_ loc: SourceLocation) throws {
        loopIterations += 1
        if loopIterations > options.limits.maxLoopIterations {
            throw TemplateError(.limitExceeded, "more than \(options.limits.maxLoopIterations) loop iterations", at: loc)
        }
        try located(loc) { try checkDeadline() }
    }

    // MARK: Statements

    func execute(_ nodes: [Node], _ scope: Scope, _ out: inout String) throws -> Flow {
        for node in nodes {
            let flow = try execute(node, scope, &out)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private func execute(_ node: Node, _ scope: Scope, _ out: inout String) throws -> Flow {
        switch node.kind {
        case .text(let s):
            out += s
            try checkSize(out)
        case .output(let e):
            let v = try eval(e, scope)
            try located(e.loc) { try append(v, to: &out) }
        case .if(let branches, let otherwise):
            for branch in branches where try eval(branch.condition, scope).isTruthy {
                return try execute(branch.body, scope, &out)
            }
            return try execute(otherwise, scope, &out)
        case .for(let target, let iterable, let filter, let body, let otherwise, _):
            try executeFor(target, iterable, filter, body, otherwise, node.loc, scope, &out)
        case .set(let target, let e):
            try assign(target, try eval(e, scope), scope, node.loc)
        case .setBlock(let target, let filters, let body):
            var captured = ""
            _ = try execute(body, Scope(parent: scope), &captured)
            var v = JinjaValue.string(captured)
            for f in filters {
                v = try located(f.loc) { try Filters.apply(f.name, v, try self.evalArgs(f.args, scope), self) }
            }
            try assign(target, v, scope, node.loc)
        case .macro(let definition):
            let m = Macro(definition: definition, closure: scope)
            scope.vars[definition.name] = .opaque(JinjaOpaque(.macro(m)))
            cyclicScopes.append(scope)
        case .callBlock(let call, let definition):
            guard case .call(let callee, let args) = call.kind else { break }
            let caller = Macro(definition: definition, closure: scope)
            var arguments = try evalArgs(args, scope)
            arguments.keyword.append(("caller", .opaque(JinjaOpaque(.macro(caller)))))
            let fn = try eval(callee, scope)
            let v = try located(call.loc) { try self.callValue(fn, arguments, callee) }
            try located(call.loc) { try append(v, to: &out) }
        case .filterBlock(let filters, let body):
            var captured = ""
            _ = try execute(body, Scope(parent: scope), &captured)
            var v = JinjaValue.string(captured)
            for f in filters {
                v = try located(f.loc) { try Filters.apply(f.name, v, try self.evalArgs(f.args, scope), self) }
            }
            try located(node.loc) { try append(v, to: &out) }
        case .break: return .breakLoop
        case .continue: return .continueLoop
        case .block(let body): return try execute(body, scope, &out)
        case .do(let e): _ = try eval(e, scope)
        }
        return .normal
    }

    private func executeFor(
        _ target: Target, _ iterable: Expr, _ filter: Expr?, _ body: [Node], _ otherwise: [Node],
        _ loc: SourceLocation, _ scope: Scope, _ out: inout String
    ) throws {
        let source = try eval(iterable, scope)
        var items = try located(iterable.loc) { try self.iterate(source) }
        if let filter {
            // `for x in xs if cond`: filtered before the loop, so loop.index/length count only kept items.
            items = try items.filter { item in
                try countIteration(loc)
                let s = Scope(parent: scope)
                try assign(target, item, s, loc)
                return try eval(filter, s).isTruthy
            }
        }
        if items.isEmpty {
            _ = try execute(otherwise, scope, &out)
            return
        }
        loopDepth += 1
        defer { loopDepth -= 1 }
        let state = LoopState(items: items, depth: loopDepth)
        let loopValue = JinjaValue.opaque(JinjaOpaque(.loop(state)))
        for (i, item) in items.enumerated() {
            try countIteration(loc)
            state.index0 = i
            let s = Scope(["loop": loopValue], parent: scope)
            try assign(target, item, s, loc)
            if try execute(body, s, &out) == .breakLoop { break }
        }
    }

    func assign(_ target: Target, _ value: JinjaValue, _ scope: Scope, _ loc: SourceLocation) throws {
        switch target {
        case .name(let n):
            scope.vars[n] = value
        case .attribute(let e, let attr):
            guard case .opaque(let o) = try eval(e, scope), case .namespace(let ns) = o.kind else {
                throw TemplateError(.type, "Cannot assign attribute on non-namespace object", at: loc)
            }
            try located(loc) { try Namespace.checkName(attr) }
            _ = try located(loc) { try checkDepth(.object(OrderedObject([("", value)]))) }
            ns.attributes[attr] = value
        case .tuple(let targets):
            let parts = try located(loc) { try self.iterate(value) }
            guard parts.count == targets.count else {
                let msg = parts.count > targets.count
                    ? "too many values to unpack (expected \(targets.count))"
                    : "not enough values to unpack (expected \(targets.count), got \(parts.count))"
                throw TemplateError(.type, msg, at: loc)
            }
            for (t, v) in zip(targets, parts) { try assign(t, v, scope, loc) }
        }
    }

    // MARK: Calls

    func callValue(_ fn: JinjaValue, _ args: Arguments, _ calleeExpr: Expr? = nil) throws -> JinjaValue {
        switch fn {
        case .opaque(let o):
            switch o.kind {
            case .function(let f): return try f.body(args, self)
            case .macro(let m): return try callMacro(m, args)
            default: break
            }
        case .undefined:
            throw TemplateError(.undefined, calleeExpr.map(undefinedMessage) ?? "callable is undefined")
        default: break
        }
        throw TemplateError(.type, "'\(fn.typeName)' object is not callable")
    }

    func callMacro(_ m: Macro, _ args: Arguments) throws -> JinjaValue {
        callDepth += 1
        defer { callDepth -= 1 }
        if callDepth > options.limits.maxRecursionDepth {
            throw TemplateError(.limitExceeded, "macro recursion deeper than \(options.limits.maxRecursionDepth)")
        }
        try checkDeadline()
        let def = m.definition
        let scope = Scope(parent: m.closure)
        var varargs: [JinjaValue] = []
        for (i, v) in args.positional.enumerated() {
            if i < def.params.count { scope.vars[def.params[i].name] = v } else { varargs.append(v) }
        }
        if !varargs.isEmpty && !def.catchesVarargs {
            throw TemplateError(.type, "macro '\(def.name)' takes not more than \(def.params.count) argument(s)")
        }
        var kwargs = OrderedObject()
        for (k, v) in args.keyword {
            if def.params.contains(where: { $0.name == k }) {
                if scope.vars[k] != nil { throw TemplateError(.type, "macro '\(def.name)' got multiple values for argument '\(k)'") }
                scope.vars[k] = v
            } else if k == "caller" {
                scope.vars[k] = v
            } else if def.catchesKwargs {
                kwargs[k] = v
            } else {
                throw TemplateError(.type, "macro '\(def.name)' takes no keyword argument '\(k)'")
            }
        }
        // Defaults are evaluated at call time in the macro's scope, so they may refer to earlier parameters.
        for p in def.params where scope.vars[p.name] == nil {
            scope.vars[p.name] = try p.defaultValue.map { try eval($0, scope) } ?? .undefined
        }
        scope.vars["varargs"] = .array(varargs)
        scope.vars["kwargs"] = .object(kwargs)
        var out = ""
        _ = try execute(def.body, scope, &out)
        return .string(out)
    }

    func evalArgs(_ args: [CallArg], _ scope: Scope) throws -> Arguments {
        var out = Arguments()
        for a in args {
            switch a {
            case .positional(let e): out.positional.append(try eval(e, scope))
            case .keyword(let k, let e): out.keyword.append((k, try eval(e, scope)))
            }
        }
        return out
    }

    /// Runs `body`, attaching `loc` to any location-less error.
    func located<T>(_ loc: SourceLocation, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as TemplateError {
            throw e.located(loc)
        }
    }

    /// jinja2-style message for using an undefined value produced by `expr`.
    func undefinedMessage(_ expr: Expr) -> String {
        switch expr.kind {
        case .name(let n): return "'\(n)' is undefined"
        case .attribute(let obj, let attr):
            return "\(describeOwner(obj)) has no attribute '\(attr)'"
        case .item(let obj, let key):
            if case .literal(let k) = key.kind { return "\(describeOwner(obj)) has no attribute \(k.pythonRepr)" }
            return "\(describeOwner(obj)) has no such element"
        default: return "value is undefined"
        }
    }

    private func describeOwner(_ obj: Expr) -> String {
        if case .name(let n) = obj.kind { return "'\(n)'" }
        return "object"
    }

    var now: Date { options.now ?? Date() }
}

extension JinjaValue {
    /// Appends `str(self)` without building an intermediate string for the common cases.
    func appendString(to out: inout String) {
        switch self {
        case .undefined: break
        case .string(let s): out += s
        case .int(let i): out += String(i)
        default: out += pythonString
        }
    }
}
