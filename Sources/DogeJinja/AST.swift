/// Expression tree. Every node keeps its source location for error messages.
struct Expr: Sendable {
    indirect enum Kind: Sendable {
        case literal(JinjaValue)
        case name(String)
        case list([Expr])
        case tuple([Expr])
        case dict([(Expr, Expr)])
        case attribute(Expr, String)
        case item(Expr, Expr)
        case slice(Expr, start: Expr?, stop: Expr?, step: Expr?)
        case call(Expr, [CallArg])
        case filter(Expr, name: String, args: [CallArg])
        case test(Expr, name: String, args: [CallArg], negated: Bool)
        case unary(UnaryOp, Expr)
        case binary(BinaryOp, Expr, Expr)
        case and(Expr, Expr)
        case or(Expr, Expr)
        case compare(Expr, [(CompareOp, Expr)])
        case concat([Expr])
        case conditional(then: Expr, condition: Expr, otherwise: Expr?)
    }

    let kind: Kind
    let loc: SourceLocation
    /// Height of the tree below this node: long chains (`a.b.c…`, `1+1+…`) nest as deeply as
    /// parentheses do, and evaluating them recurses, so the parser bounds it.
    let height: Int

    init(kind: Kind, loc: SourceLocation) {
        self.kind = kind
        self.loc = loc
        self.height = 1 + kind.children.reduce(0) { max($0, $1.height) }
    }
}

extension Expr.Kind {
    var children: [Expr] {
        func args(_ a: [CallArg]) -> [Expr] {
            a.map {
                switch $0 {
                case .positional(let e), .keyword(_, let e): return e
                }
            }
        }
        switch self {
        case .literal, .name: return []
        case .list(let xs), .tuple(let xs), .concat(let xs): return xs
        case .dict(let pairs): return pairs.flatMap { [$0.0, $0.1] }
        case .attribute(let e, _), .unary(_, let e): return [e]
        case .item(let a, let b), .binary(_, let a, let b), .and(let a, let b), .or(let a, let b): return [a, b]
        case .slice(let e, let a, let b, let c): return [e] + [a, b, c].compactMap { $0 }
        case .call(let e, let a), .filter(let e, _, let a), .test(let e, _, let a, _): return [e] + args(a)
        case .compare(let e, let ops): return [e] + ops.map(\.1)
        case .conditional(let a, let b, let c): return [a, b] + (c.map { [$0] } ?? [])
        }
    }
}

enum CallArg: Sendable {
    case positional(Expr)
    case keyword(String, Expr)
}

enum UnaryOp: Sendable { case not, negate, plus }

enum BinaryOp: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%", power = "**"
}

enum CompareOp: String, Sendable {
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">=", `in` = "in", notIn = "not in"
}

/// Assignment / loop targets: a name, `ns.attr`, or a tuple of names.
indirect enum Target: Sendable {
    case name(String)
    case attribute(Expr, String)
    case tuple([Target])
}

struct MacroParam: Sendable {
    let name: String
    let defaultValue: Expr?
}

struct MacroDefinition: Sendable {
    let name: String
    let params: [MacroParam]
    let body: [Node]
    /// Whether extra positional / unknown keyword arguments are accepted (the body reads `varargs` / `kwargs`).
    let catchesVarargs: Bool
    let catchesKwargs: Bool
}

/// Statements and template text.
struct Node: Sendable {
    indirect enum Kind: Sendable {
        case text(String)
        case output(Expr)
        case `if`([(condition: Expr, body: [Node])], otherwise: [Node])
        case `for`(target: Target, iterable: Expr, filter: Expr?, body: [Node], otherwise: [Node], recursive: Bool)
        case set(Target, Expr)
        case setBlock(Target, filters: [(name: String, args: [CallArg], loc: SourceLocation)], body: [Node])
        case macro(MacroDefinition)
        case callBlock(call: Expr, caller: MacroDefinition)
        case filterBlock(filters: [(name: String, args: [CallArg], loc: SourceLocation)], body: [Node])
        case `break`
        case `continue`
        /// `{% generation %}` and other body-only wrappers.
        case block([Node])
        case `do`(Expr)
    }

    let kind: Kind
    let loc: SourceLocation
}
