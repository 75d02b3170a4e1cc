/// Expression grammar, lowest to highest precedence:
/// conditional, or, and, not, comparison, + -, ~, * / // %, **, unary, then filters/tests and postfix.
extension Parser {
    /// A possibly comma-separated list of expressions; a bare comma list is a tuple.
    mutating func parseTuple(withCondexpr: Bool = true, extraEnd: Set<String> = [], explicitParens: Bool = false) throws -> Expr {
        let loc = current.loc
        var items: [Expr] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectOp(",") }
            if isTupleEnd(extraEnd) { break }
            let item = withCondexpr ? try parseExpression() : try parseOr()
            try checkHeight(item)
            items.append(item)
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
        try checkHeight(expr)
        return expr
    }

    func checkHeight(_ expr: Expr) throws {
        if expr.height > maxDepth {
            throw TemplateError(.limitExceeded, "expression nested too deeply (\(expr.height) levels, limit \(maxDepth))", at: expr.loc)
        }
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
            // `not not not …` recurses here without passing parseExpression: count it too
            // (found by AddressSanitizer's smaller thread stacks).
            depth += 1
            defer { depth -= 1 }
            if depth > maxDepth {
                throw TemplateError(.limitExceeded, "expression nested too deeply", at: current.loc)
            }
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

    mutating func parseCallArgs() throws -> [CallArg] {
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

    mutating func parseDottedName() throws -> String {
        var name = try expectName()
        while isOp("."), case .name = peekNext.kind {
            pos += 1
            name += "." + (try expectName())
        }
        return name
    }


    private mutating func parseFilterAndTests(_ start: Expr) throws -> Expr {
        var node = start
        while true {
            if isOp("|") {
                pos += 1
                let tok = current
                let name = try parseDottedName()
                let args = isOp("(") ? try parseCallArgs() : []
                node = Expr(kind: .filter(node, name: name, args: args), loc: tok.loc)
            } else if isName("is") {
                _ = advance()   // "is"
                let negated = skipName("not")
                let tok = current
                let name = try parseDottedName()
                var args: [CallArg] = []
                if isOp("(") {
                    args = try parseCallArgs()
                } else if startsBareTestArgument() {
                    if isName("is") { throw fail("You cannot chain multiple tests with is") }
                    args = [.positional(try parsePostfix(try parsePrimary()))]
                }
                node = Expr(kind: .test(node, name: name, args: args, negated: negated), loc: tok.loc)
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
