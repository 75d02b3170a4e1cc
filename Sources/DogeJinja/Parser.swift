/// Recursive-descent parser following jinja2's grammar and operator precedence.
struct Parser {
    let tokens: [Token]
    var pos = 0
    var depth = 0
    let maxDepth: Int

    init(tokens: [Token], maxDepth: Int) {
        self.tokens = tokens
        self.maxDepth = maxDepth
    }

    // MARK: Token helpers

    var current: Token { tokens[pos] }
    var peekNext: Token { tokens[min(pos + 1, tokens.count - 1)] }

    mutating func advance() -> Token {
        let t = tokens[pos]
        if pos < tokens.count - 1 { pos += 1 }
        return t
    }

    func isOp(_ op: String, _ t: Token? = nil) -> Bool { (t ?? current).kind == .op(op) }
    func isName(_ name: String, _ t: Token? = nil) -> Bool { (t ?? current).kind == .name(name) }

    mutating func skipOp(_ op: String) -> Bool {
        if isOp(op) { pos += 1; return true }
        return false
    }

    mutating func skipName(_ name: String) -> Bool {
        if isName(name) { pos += 1; return true }
        return false
    }

    func fail(_ msg: String, _ t: Token? = nil) -> TemplateError {
        TemplateError(.syntax, msg, at: (t ?? current).loc)
    }

    func describe(_ t: Token) -> String {
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

    mutating func expectOp(_ op: String) throws {
        guard skipOp(op) else { throw fail("expected '\(op)', got \(describe(current))") }
    }

    mutating func expectName() throws -> String {
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
        // Nested blocks recurse; bound them like nested expressions so hostile input cannot overflow the stack.
        depth += 1
        defer { depth -= 1 }
        if depth > maxDepth { throw TemplateError(.limitExceeded, "blocks nested too deeply", at: loc) }
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
    mutating func parseSignature() throws -> [MacroParam] {
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
    mutating func parseFilterChain(first: Bool) throws -> [(name: String, args: [CallArg], loc: SourceLocation)] {
        var out: [(name: String, args: [CallArg], loc: SourceLocation)] = []
        var needPipe = !first
        while true {
            if needPipe { guard skipOp("|") else { break } }
            needPipe = true
            let tok = current
            let name = try parseDottedName()
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
}
