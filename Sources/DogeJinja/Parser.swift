/// Recursive-descent parser following jinja2's grammar and operator precedence.
struct Parser {
    private let tokens: [Token]
    private var pos = 0
    private var depth = 0
    private let maxDepth: Int

    init(tokens: [Token], maxDepth: Int) {
        self.tokens = tokens
        self.maxDepth = maxDepth
    }

    // MARK: Token helpers

    private var current: Token { tokens[pos] }
    private var peekNext: Token { tokens[min(pos + 1, tokens.count - 1)] }

    private mutating func advance() -> Token {
        let t = tokens[pos]
        if pos < tokens.count - 1 { pos += 1 }
        return t
    }

    private func isOp(_ op: String, _ t: Token? = nil) -> Bool { (t ?? current).kind == .op(op) }
    private func isName(_ name: String, _ t: Token? = nil) -> Bool { (t ?? current).kind == .name(name) }

    private mutating func skipOp(_ op: String) -> Bool {
        if isOp(op) { pos += 1; return true }
        return false
    }

    private mutating func skipName(_ name: String) -> Bool {
        if isName(name) { pos += 1; return true }
        return false
    }

    func fail(_ msg: String, _ t: Token? = nil) -> TemplateError {
        TemplateError(.syntax, msg, at: (t ?? current).loc)
    }

    private func describe(_ t: Token) -> String {
        switch t.kind {
        case .text: return "template data"
        case .variableBegin: return "'{{'"
        case .variableEnd: return "'}}'"
        case .blockBegin: return "'{%'"
        case .blockEnd: return "'%}'"
        case .name(let n): return "'\(n)'"
        case .string: return "string"
        case .int, .float: return "number"
        case .op(let o): return "'\(o)'"
        case .eof: return "end of template"
        }
    }

    private mutating func expectOp(_ op: String) throws {
        guard skipOp(op) else { throw fail("expected '\(op)', got \(describe(current))") }
    }

    private mutating func expectName() throws -> String {
        guard case .name(let n) = current.kind else { throw fail("expected a name, got \(describe(current))") }
        pos += 1
        return n
    }

    private mutating func expectBlockEnd() throws {
        guard current.kind == .blockEnd else { throw fail("expected end of statement block, got \(describe(current))") }
        pos += 1
    }

    // MARK: Statements

    mutating func parseTemplate() throws -> [Node] {
        let (body, end) = try parseBody(until: [])
        if let end { throw fail("unexpected '\(end.name)'", end.token) }
        return body
    }

    /// Parses nodes until a block tag whose name is in `until` (consumed, returned) or the end of input.
    private mutating func parseBody(until: Set<String>) throws -> ([Node], (name: String, token: Token)?) {
        var nodes: [Node] = []
        while true {
            let t = current
            switch t.kind {
            case .eof:
                if !until.isEmpty {
                    let names = until.sorted().map { "'\($0)'" }.joined(separator: " or ")
                    throw fail("unexpected end of template, expected \(names)", t)
                }
                return (nodes, nil)
            case .text(let s):
                pos += 1
                nodes.append(Node(kind: .text(s), loc: t.loc))
            case .variableBegin:
                pos += 1
                let e = try parseTuple()
                guard current.kind == .variableEnd else { throw fail("expected end of print statement, got \(describe(current))") }
                pos += 1
                nodes.append(Node(kind: .output(e), loc: e.loc))
            case .blockBegin:
                pos += 1
                let nameToken = current
                let name = try expectName()
                if until.contains(name) { return (nodes, (name, nameToken)) }
                nodes.append(try parseStatement(name, nameToken))
            default:
                throw fail("unexpected \(describe(t))", t)
            }
        }
    }

    private mutating func parseStatement(_ name: String, _ tok: Token) throws -> Node {
        let loc = tok.loc
        switch name {
        case "if": return try parseIf(loc)
        case "for": return try parseFor(loc)
        case "set": return try parseSet(loc)
        case "macro": return try parseMacro(loc)
        case "call": return try parseCallBlock(loc)
        case "filter":
            let filters = try parseFilterChain(first: true)
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endfilter"])
            try expectBlockEnd()
            return Node(kind: .filterBlock(filters: filters, body: body), loc: loc)
        case "break", "continue":
            try expectBlockEnd()
            return Node(kind: name == "break" ? .break : .continue, loc: loc)
        case "generation":
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endgeneration"])
            try expectBlockEnd()
            return Node(kind: .block(body), loc: loc)
        case "do":
            let e = try parseTuple()
            try expectBlockEnd()
            return Node(kind: .do(e), loc: loc)
        default:
            throw fail("Encountered unknown tag '\(name)'.", tok)
        }
    }

    private mutating func parseIf(_ loc: SourceLocation) throws -> Node {
        var branches: [(condition: Expr, body: [Node])] = []
        var otherwise: [Node] = []
        var condition = try parseTuple(withCondexpr: false)
        while true {
            try expectBlockEnd()
            let (body, end) = try parseBody(until: ["elif", "else", "endif"])
            branches.append((condition, body))
            switch end!.name {
            case "elif":
                condition = try parseTuple(withCondexpr: false)
            case "else":
                try expectBlockEnd()
                (otherwise, _) = try parseBody(until: ["endif"])
                try expectBlockEnd()
                return Node(kind: .if(branches, otherwise: otherwise), loc: loc)
            default:
                try expectBlockEnd()
                return Node(kind: .if(branches, otherwise: otherwise), loc: loc)
            }
        }
    }

    private mutating func parseFor(_ loc: SourceLocation) throws -> Node {
        let target = try parseAssignTarget(allowAttribute: false)
        guard skipName("in") else { throw fail("expected 'in', got \(describe(current))") }
        let iterable = try parseTuple(withCondexpr: false, extraEnd: ["recursive"])
        var filter: Expr? = nil
        if skipName("if") { filter = try parseExpression() }
        let recursive = skipName("recursive")
        try expectBlockEnd()
        let (body, end) = try parseBody(until: ["endfor", "else"])
        var otherwise: [Node] = []
        try expectBlockEnd()
        if end!.name == "else" {
            (otherwise, _) = try parseBody(until: ["endfor"])
            try expectBlockEnd()
        }
        return Node(
            kind: .for(target: target, iterable: iterable, filter: filter, body: body, otherwise: otherwise, recursive: recursive),
            loc: loc)
    }

    private mutating func parseSet(_ loc: SourceLocation) throws -> Node {
        let target = try parseAssignTarget(allowAttribute: true)
        if skipOp("=") {
            let value = try parseTuple()
            try expectBlockEnd()
            return Node(kind: .set(target, value), loc: loc)
        }
        let filters = try parseFilterChain(first: false)
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endset"])
        try expectBlockEnd()
        return Node(kind: .setBlock(target, filters: filters, body: body), loc: loc)
    }

    private mutating func parseMacro(_ loc: SourceLocation) throws -> Node {
        let name = try expectName()
        let params = try parseSignature()
        try expectBlockEnd()
        let bodyStart = pos
        let (body, _) = try parseBody(until: ["endmacro"])
        // jinja2 lets a macro take extra arguments only if its body mentions `varargs` / `kwargs`.
        let bodyTokens = tokens[bodyStart..<pos]
        let usesVarargs = bodyTokens.contains { $0.kind == .name("varargs") }
        let usesKwargs = bodyTokens.contains { $0.kind == .name("kwargs") }
        try expectBlockEnd()
        let macro = MacroDefinition(name: name, params: params, body: body, catchesVarargs: usesVarargs, catchesKwargs: usesKwargs)
        return Node(kind: .macro(macro), loc: loc)
    }

    private mutating func parseCallBlock(_ loc: SourceLocation) throws -> Node {
        let params = isOp("(") ? try parseSignature() : []
        let call = try parseExpression()
        guard case .call = call.kind else { throw fail("expected call", tokens[pos - 1]) }
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endcall"])
        try expectBlockEnd()
        let caller = MacroDefinition(name: "caller", params: params, body: body, catchesVarargs: false, catchesKwargs: false)
        return Node(kind: .callBlock(call: call, caller: caller), loc: loc)
    }

    /// `(a, b=default, ...)` for macros and call blocks.
    private mutating func parseSignature() throws -> [MacroParam] {
        try expectOp("(")
        var params: [MacroParam] = []
        while !skipOp(")") {
            if !params.isEmpty { try expectOp(",") }
            if skipOp(")") { break }
            let name = try expectName()
            let def = skipOp("=") ? try parseExpression() : nil
            if def == nil, params.contains(where: { $0.defaultValue != nil }) {
                throw fail("non-default argument follows default argument", tokens[pos - 1])
            }
            params.append(MacroParam(name: name, defaultValue: def))
        }
        return params
    }

    /// Filters of `{% filter a|b(x) %}` (first: no leading pipe) or `{% set x | f %}`.
    private mutating func parseFilterChain(first: Bool) throws -> [(name: String, args: [CallArg], loc: SourceLocation)] {
        var out: [(name: String, args: [CallArg], loc: SourceLocation)] = []
        var needPipe = !first
        while true {
            if needPipe { guard skipOp("|") else { break } }
            needPipe = true
            let tok = current
            let name = try parseDottedName()
            try checkFilter(name, tok)
            let args = isOp("(") ? try parseCallArgs() : []
            out.append((name, args, tok.loc))
        }
        return out
    }

    private mutating func parseAssignTarget(allowAttribute: Bool) throws -> Target {
        func single(_ p: inout Parser) throws -> Target {
            if p.skipOp("(") {
                let t = try p.parseAssignTarget(allowAttribute: false)
                try p.expectOp(")")
                return t
            }
            let tok = p.current
            let name = try p.expectName()
            if allowAttribute, p.isOp(".") {
                p.pos += 1
                let attr = try p.expectName()
                return .attribute(Expr(kind: .name(name), loc: tok.loc), attr)
            }
            return .name(name)
        }
        var targets = [try single(&self)]
        while isOp(",") {
            pos += 1
            if isName("in") || isOp("=") { break }
            targets.append(try single(&self))
        }
        return targets.count == 1 ? targets[0] : .tuple(targets)
    }

    // MARK: Expressions

    /// A possibly comma-separated list of expressions; a bare comma list is a tuple.
    mutating func parseTuple(withCondexpr: Bool = true, extraEnd: Set<String> = [], explicitParens: Bool = false) throws -> Expr {
        let loc = current.loc
        var items: [Expr] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectOp(",") }
            if isTupleEnd(extraEnd) { break }
            items.append(withCondexpr ? try parseExpression() : try parseOr())
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let first = items.first { return first }
            if !explicitParens { throw fail("Expected an expression, got \(describe(current))") }
        }
        return Expr(kind: .tuple(items), loc: loc)
    }

    private func isTupleEnd(_ extra: Set<String>) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .eof: return true
        case .op(let o): return o == ")"
        case .name(let n): return extra.contains(n)
        default: return false
        }
    }

    mutating func parseExpression() throws -> Expr {
        depth += 1
        defer { depth -= 1 }
        if depth > maxDepth {
            throw TemplateError(.limitExceeded, "expression nested too deeply", at: current.loc)
        }
        var expr = try parseOr()
        while isName("if") {
            pos += 1
            let cond = try parseOr()
            let otherwise = skipName("else") ? try parseExpression() : nil
            expr = Expr(kind: .conditional(then: expr, condition: cond, otherwise: otherwise), loc: expr.loc)
        }
        return expr
    }

    private mutating func parseOr() throws -> Expr {
        var left = try parseAnd()
        while skipName("or") { left = Expr(kind: .or(left, try parseAnd()), loc: left.loc) }
        return left
    }

    private mutating func parseAnd() throws -> Expr {
        var left = try parseNot()
        while skipName("and") { left = Expr(kind: .and(left, try parseNot()), loc: left.loc) }
        return left
    }

    private mutating func parseNot() throws -> Expr {
        if isName("not") {
            let loc = advance().loc
            return Expr(kind: .unary(.not, try parseNot()), loc: loc)
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws -> Expr {
        let left = try parseMath1()
        var ops: [(CompareOp, Expr)] = []
        while true {
            if case .op(let o) = current.kind, let op = CompareOp(rawValue: o), op != .in, op != .notIn {
                pos += 1
                ops.append((op, try parseMath1()))
            } else if skipName("in") {
                ops.append((.in, try parseMath1()))
            } else if isName("not"), isName("in", peekNext) {
                pos += 2
                ops.append((.notIn, try parseMath1()))
            } else {
                break
            }
        }
        return ops.isEmpty ? left : Expr(kind: .compare(left, ops), loc: left.loc)
    }

    private mutating func parseMath1() throws -> Expr {
        var left = try parseConcat()
        while case .op(let o) = current.kind, o == "+" || o == "-" {
            pos += 1
            left = Expr(kind: .binary(BinaryOp(rawValue: o)!, left, try parseConcat()), loc: left.loc)
        }
        return left
    }

    private mutating func parseConcat() throws -> Expr {
        var parts = [try parseMath2()]
        while skipOp("~") { parts.append(try parseMath2()) }
        return parts.count == 1 ? parts[0] : Expr(kind: .concat(parts), loc: parts[0].loc)
    }

    private mutating func parseMath2() throws -> Expr {
        var left = try parsePow()
        while case .op(let o) = current.kind, o == "*" || o == "/" || o == "//" || o == "%" {
            pos += 1
            left = Expr(kind: .binary(BinaryOp(rawValue: o)!, left, try parsePow()), loc: left.loc)
        }
        return left
    }

    private mutating func parsePow() throws -> Expr {
        var left = try parseUnary(withFilter: true)
        while skipOp("**") { left = Expr(kind: .binary(.power, left, try parseUnary(withFilter: true)), loc: left.loc) }
        return left
    }

    private mutating func parseUnary(withFilter: Bool) throws -> Expr {
        depth += 1
        defer { depth -= 1 }
        if depth > maxDepth {
            throw TemplateError(.limitExceeded, "expression nested too deeply", at: current.loc)
        }
        let loc = current.loc
        var node: Expr
        if skipOp("-") {
            node = Expr(kind: .unary(.negate, try parseUnary(withFilter: false)), loc: loc)
        } else if skipOp("+") {
            node = Expr(kind: .unary(.plus, try parseUnary(withFilter: false)), loc: loc)
        } else {
            node = try parsePostfix(try parsePrimary())
        }
        if withFilter { node = try parseFilterAndTests(node) }
        return node
    }

    private mutating func parsePrimary() throws -> Expr {
        let t = advance()
        switch t.kind {
        case .name(let n):
            switch n {
            case "true", "True": return Expr(kind: .literal(.bool(true)), loc: t.loc)
            case "false", "False": return Expr(kind: .literal(.bool(false)), loc: t.loc)
            case "none", "None": return Expr(kind: .literal(.null), loc: t.loc)
            default: return Expr(kind: .name(n), loc: t.loc)
            }
        case .string(var s):
            // Adjacent string literals concatenate, as in Python.
            while case .string(let more) = current.kind {
                s += more
                pos += 1
            }
            return Expr(kind: .literal(.string(s)), loc: t.loc)
        case .int(let i): return Expr(kind: .literal(.int(i)), loc: t.loc)
        case .float(let d): return Expr(kind: .literal(.double(d)), loc: t.loc)
        case .op("("):
            let e = try parseTuple(explicitParens: true)
            try expectOp(")")
            return e
        case .op("["):
            var items: [Expr] = []
            while !skipOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if skipOp("]") { break }
                items.append(try parseExpression())
            }
            return Expr(kind: .list(items), loc: t.loc)
        case .op("{"):
            var pairs: [(Expr, Expr)] = []
            while !skipOp("}") {
                if !pairs.isEmpty { try expectOp(",") }
                if skipOp("}") { break }
                let k = try parseExpression()
                try expectOp(":")
                pairs.append((k, try parseExpression()))
            }
            return Expr(kind: .dict(pairs), loc: t.loc)
        default:
            throw fail("unexpected \(describe(t))", t)
        }
    }

    private mutating func parsePostfix(_ start: Expr) throws -> Expr {
        var node = start
        while true {
            if isOp(".") {
                let dot = advance()
                switch advance().kind {
                case .name(let n): node = Expr(kind: .attribute(node, n), loc: dot.loc)
                case .int(let i): node = Expr(kind: .item(node, Expr(kind: .literal(.int(i)), loc: dot.loc)), loc: dot.loc)
                default: throw fail("expected name or number after '.'", tokens[pos - 1])
                }
            } else if isOp("[") {
                let open = advance()
                node = try parseSubscript(node, open.loc)
            } else if isOp("(") {
                let open = current
                node = Expr(kind: .call(node, try parseCallArgs()), loc: open.loc)
            } else {
                return node
            }
        }
    }

    private mutating func parseSubscript(_ target: Expr, _ loc: SourceLocation) throws -> Expr {
        var parts: [Expr?] = [nil]
        var isSlice = false
        var indexes: [Expr] = []
        // Either a slice `a:b:c` or one or more comma-separated indexes.
        func sliceEnd(_ p: Parser) -> Bool { p.isOp("]") || p.isOp(":") || p.isOp(",") }
        if !isOp(":") { parts[0] = try parseExpression() }
        if isOp(":") {
            isSlice = true
            while skipOp(":") {
                parts.append(sliceEnd(self) ? nil : try parseExpression())
            }
        } else {
            indexes.append(parts[0]!)
            while skipOp(",") {
                if isOp("]") { break }
                indexes.append(try parseExpression())
            }
        }
        try expectOp("]")
        if isSlice {
            guard parts.count <= 3 else { throw fail("invalid slice", tokens[pos - 1]) }
            return Expr(
                kind: .slice(target, start: parts[0], stop: parts.count > 1 ? parts[1] : nil, step: parts.count > 2 ? parts[2] : nil),
                loc: loc)
        }
        let index = indexes.count == 1 ? indexes[0] : Expr(kind: .tuple(indexes), loc: loc)
        return Expr(kind: .item(target, index), loc: loc)
    }

    private mutating func parseCallArgs() throws -> [CallArg] {
        try expectOp("(")
        var args: [CallArg] = []
        var sawKeyword = false
        while !skipOp(")") {
            if !args.isEmpty { try expectOp(",") }
            if skipOp(")") { break }
            if case .name(let n) = current.kind, isOp("=", peekNext) {
                pos += 2
                args.append(.keyword(n, try parseExpression()))
                sawKeyword = true
            } else {
                if sawKeyword { throw fail("positional argument follows keyword argument") }
                args.append(.positional(try parseExpression()))
            }
        }
        return args
    }

    private mutating func parseDottedName() throws -> String {
        var name = try expectName()
        while isOp("."), case .name = peekNext.kind {
            pos += 1
            name += "." + (try expectName())
        }
        return name
    }

    private func checkFilter(_ name: String, _ tok: Token) throws {
        guard Filters.names.contains(name) else { throw fail("No filter named '\(name)'.", tok) }
    }

    private mutating func parseFilterAndTests(_ start: Expr) throws -> Expr {
        var node = start
        while true {
            if isOp("|") {
                pos += 1
                let tok = current
                let name = try parseDottedName()
                try checkFilter(name, tok)
                let args = isOp("(") ? try parseCallArgs() : []
                node = Expr(kind: .filter(node, name: name, args: args), loc: tok.loc)
            } else if isName("is") {
                let isTok = advance()
                let negated = skipName("not")
                let tok = current
                let name = try parseDottedName()
                guard Tests.names.contains(name) else { throw fail("No test named '\(name)'.", tok) }
                var args: [CallArg] = []
                if isOp("(") {
                    args = try parseCallArgs()
                } else if startsBareTestArgument() {
                    if isName("is") { throw fail("You cannot chain multiple tests with is") }
                    args = [.positional(try parsePostfix(try parsePrimary()))]
                }
                node = Expr(kind: .test(node, name: name, args: args, negated: negated), loc: isTok.loc)
            } else if isOp("(") {
                let open = current
                node = Expr(kind: .call(node, try parseCallArgs()), loc: open.loc)
            } else {
                return node
            }
        }
    }

    /// jinja2 allows one argument without parentheses: `x is divisibleby 3`.
    private func startsBareTestArgument() -> Bool {
        switch current.kind {
        case .name(let n): return n != "else" && n != "or" && n != "and"
        case .string, .int, .float: return true
        case .op(let o): return o == "(" || o == "[" || o == "{"
        default: return false
        }
    }
}
