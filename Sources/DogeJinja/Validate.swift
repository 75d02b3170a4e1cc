/// jinja2's compile-time check for unknown filters and tests. Like jinja2, it is skipped inside
/// `if` statements and conditional expressions ("soft frames"): there the error waits until the
/// filter is actually run, so a template may mention a filter its host lacks behind a condition.
struct Validator {
    var hostFilters: Set<String> = []

    func check(_ nodes: [Node], soft: Bool = false) throws {
        for n in nodes { try check(n, soft: soft) }
    }

    private func check(_ node: Node, soft: Bool) throws {
        switch node.kind {
        case .text, .break, .continue: break
        case .output(let e), .do(let e): try check(e, soft: soft)
        case .if(let branches, let otherwise):
            for b in branches {
                try check(b.condition, soft: true)
                try check(b.body, soft: true)
            }
            try check(otherwise, soft: true)
        case .for(let target, let iterable, let filter, let body, let otherwise, _):
            try check(target, soft: soft)
            try check(iterable, soft: soft)
            // The loop body is an inner frame, which is never soft.
            if let filter { try check(filter, soft: false) }
            try check(body, soft: false)
            try check(otherwise, soft: false)
        case .set(let target, let e):
            try check(target, soft: soft)
            try check(e, soft: soft)
        case .setBlock(let target, let filters, let body):
            try check(target, soft: soft)
            for f in filters { try checkFilter(f.name, f.args, f.loc, soft: soft) }
            try check(body, soft: false)
        case .macro(let def):
            for p in def.params { if let d = p.defaultValue { try check(d, soft: false) } }
            try check(def.body, soft: false)
        case .callBlock(let call, let caller):
            try check(call, soft: soft)
            try check(caller.body, soft: false)
        case .filterBlock(let filters, let body):
            for f in filters { try checkFilter(f.name, f.args, f.loc, soft: soft) }
            try check(body, soft: false)
        case .block(let body): try check(body, soft: soft)
        }
    }

    private func check(_ target: Target, soft: Bool) throws {
        switch target {
        case .name: break
        case .attribute(let e, _): try check(e, soft: soft)
        case .tuple(let ts): for t in ts { try check(t, soft: soft) }
        }
    }

    private func checkFilter(_ name: String, _ args: [CallArg], _ loc: SourceLocation, soft: Bool) throws {
        if !soft && !Filters.names.contains(name) && !hostFilters.contains(name) { throw TemplateError(.syntax, "No filter named '\(name)'.", at: loc) }
        try check(args, soft: soft)
    }

    private func check(_ args: [CallArg], soft: Bool) throws {
        for a in args {
            switch a {
            case .positional(let e), .keyword(_, let e): try check(e, soft: soft)
            }
        }
    }

    private func check(_ e: Expr, soft: Bool) throws {
        switch e.kind {
        case .literal, .name: break
        case .list(let items), .tuple(let items), .concat(let items):
            for i in items { try check(i, soft: soft) }
        case .dict(let pairs):
            for (k, v) in pairs {
                try check(k, soft: soft)
                try check(v, soft: soft)
            }
        case .attribute(let o, _): try check(o, soft: soft)
        case .item(let o, let k):
            try check(o, soft: soft)
            try check(k, soft: soft)
        case .slice(let o, let a, let b, let c):
            try check(o, soft: soft)
            for x in [a, b, c] { if let x { try check(x, soft: soft) } }
        case .call(let f, let args):
            try check(f, soft: soft)
            try check(args, soft: soft)
        case .filter(let v, let name, let args):
            try check(v, soft: soft)
            try checkFilter(name, args, e.loc, soft: soft)
        case .test(let v, let name, let args, _):
            try check(v, soft: soft)
            if !soft && !Tests.names.contains(name) { throw TemplateError(.syntax, "No test named '\(name)'.", at: e.loc) }
            try check(args, soft: soft)
        case .unary(_, let x): try check(x, soft: soft)
        case .binary(_, let a, let b), .and(let a, let b), .or(let a, let b):
            try check(a, soft: soft)
            try check(b, soft: soft)
        case .compare(let first, let ops):
            try check(first, soft: soft)
            for (_, x) in ops { try check(x, soft: soft) }
        case .conditional(let then, let condition, let otherwise):
            try check(then, soft: true)
            try check(condition, soft: true)
            if let otherwise { try check(otherwise, soft: true) }
        }
    }
}
