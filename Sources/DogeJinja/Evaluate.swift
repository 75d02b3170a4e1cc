import Foundation

/// Expression evaluation.
extension Interpreter {
    func eval(_ e: Expr, _ scope: Scope) throws -> JinjaValue {
        do {
            return try evalInner(e, scope)
        } catch let err as TemplateError {
            throw err.located(e.loc)
        }
    }

    private func evalInner(_ e: Expr, _ scope: Scope) throws -> JinjaValue {
        switch e.kind {
        case .literal(let v): return v
        case .name(let n): return scope.lookup(n) ?? .undefined
        case .list(let items), .tuple(let items):
            return try checkDepth(.array(try items.map { try eval($0, scope) }))
        case .dict(let pairs):
            var obj = OrderedObject()
            for (k, v) in pairs { try obj.set(try eval(k, scope), try eval(v, scope)) }
            return try checkDepth(.object(obj))
        case .attribute(let objExpr, let name):
            let obj = try eval(objExpr, scope)
            if obj.isUndefined { throw TemplateError(.undefined, undefinedMessage(objExpr)) }
            return try getAttribute(obj, name)
        case .item(let objExpr, let keyExpr):
            let obj = try eval(objExpr, scope)
            if obj.isUndefined { throw TemplateError(.undefined, undefinedMessage(objExpr)) }
            return try getItem(obj, try eval(keyExpr, scope))
        case .slice(let objExpr, let start, let stop, let step):
            let obj = try eval(objExpr, scope)
            if obj.isUndefined { throw TemplateError(.undefined, undefinedMessage(objExpr)) }
            return try slice(obj, try start.map { try eval($0, scope) }, try stop.map { try eval($0, scope) },
                try step.map { try eval($0, scope) })
        case .call(let callee, let argExprs):
            let args = try evalArgs(argExprs, scope)
            if case .attribute(let objExpr, let name) = callee.kind {
                let obj = try eval(objExpr, scope)
                if obj.isUndefined { throw TemplateError(.undefined, undefinedMessage(objExpr)) }
                if let result = try Methods.call(obj, name, args, self) { return result }
                return try callValue(try getAttribute(obj, name), args, callee)
            }
            return try callValue(try eval(callee, scope), args, callee)
        case .filter(let valueExpr, let name, let argExprs):
            let value = try eval(valueExpr, scope)
            return try Filters.apply(name, value, try evalArgs(argExprs, scope), self)
        case .test(let valueExpr, let name, let argExprs, let negated):
            let value = try eval(valueExpr, scope)
            let result = try Tests.apply(name, value, try evalArgs(argExprs, scope), self)
            return .bool(result != negated)
        case .unary(let op, let operand):
            let v = try eval(operand, scope)
            switch op {
            case .not: return .bool(!v.isTruthy)
            case .negate, .plus:
                if v.isUndefined { throw TemplateError(.undefined, undefinedMessage(operand)) }
                switch v {
                case .int(let i):
                    if op == .negate, i == .min { throw TemplateError(.type, "integer overflow in unary -") }
                    return .int(op == .negate ? -i : i)
                case .bool(let b): return .int(op == .negate ? -(b ? 1 : 0) : (b ? 1 : 0))
                case .double(let d): return .double(op == .negate ? -d : d)
                default: throw TemplateError(.type, "bad operand type for unary \(op == .negate ? "-" : "+"): '\(v.typeName)'")
                }
            }
        case .binary(let op, let l, let r):
            let a = try eval(l, scope)
            let b = try eval(r, scope)
            if a.isUndefined { throw TemplateError(.undefined, undefinedMessage(l)) }
            if b.isUndefined { throw TemplateError(.undefined, undefinedMessage(r)) }
            return try binary(op, a, b)
        case .and(let l, let r):
            let a = try eval(l, scope)
            return a.isTruthy ? try eval(r, scope) : a
        case .or(let l, let r):
            let a = try eval(l, scope)
            return a.isTruthy ? a : try eval(r, scope)
        case .compare(let first, let ops):
            var left = try eval(first, scope)
            for (op, rightExpr) in ops {
                let right = try eval(rightExpr, scope)
                if !(try compare(op, left, right)) { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .concat(let parts):
            var s = ""
            for p in parts { try append(try eval(p, scope), to: &s) }
            return .string(s)
        case .conditional(let then, let condition, let otherwise):
            if try eval(condition, scope).isTruthy { return try eval(then, scope) }
            return try otherwise.map { try eval($0, scope) } ?? .undefined
        }
    }

    // MARK: Attribute and item access

    /// `obj.name`: jinja2 tries the attribute, then the item.
    func getAttribute(_ obj: JinjaValue, _ name: String) throws -> JinjaValue {
        switch obj {
        case .object(let o): return o[name] ?? .undefined
        case .opaque(let o):
            switch o.kind {
            case .namespace(let ns): return ns.attributes[name] ?? .undefined
            case .loop(let state): return state.attribute(name)
            default: return .undefined
            }
        case .undefined: throw TemplateError(.undefined, "attribute '\(name)' of undefined value")
        default: return .undefined
        }
    }

    /// `obj[key]`: jinja2 tries the item, then the attribute.
    func getItem(_ obj: JinjaValue, _ key: JinjaValue) throws -> JinjaValue {
        switch (obj.plain, key.plain) {
        case (.array(let a), _):
            guard let i = key.asInt else { return .undefined }
            let idx = i < 0 ? i + a.count : i
            return a.indices.contains(idx) ? a[idx] : .undefined
        case (.string(let s), _):
            guard let i = key.asInt else { return .undefined }
            let scalars = Array(s.unicodeScalars)
            let idx = i < 0 ? i + scalars.count : i
            return scalars.indices.contains(idx) ? .string(String(scalars[idx])) : .undefined
        case (.object(let o), _):
            return o.value(for: key) ?? .undefined
        case (_, .string(let name)):
            return try getAttribute(obj, name)
        default:
            return .undefined
        }
    }

    /// Python slicing of lists and strings, negative indices and steps included.
    func slice(_ obj: JinjaValue, _ start: JinjaValue?, _ stop: JinjaValue?, _ step: JinjaValue?) throws -> JinjaValue {
        func intOrNil(_ v: JinjaValue?) throws -> Int? {
            guard let v, v != .null else { return nil }
            guard let i = v.asInt else { throw TemplateError(.type, "slice indices must be integers or None") }
            return i
        }
        let st = try intOrNil(step) ?? 1
        if st == 0 { throw TemplateError(.type, "slice step cannot be zero") }
        func indices(_ count: Int) throws -> [Int] {
            func clamp(_ v: Int?, _ def: Int) -> Int {
                guard var v else { return def }
                if v < 0 { v += count }
                return st > 0 ? min(max(v, 0), count) : min(max(v, -1), count - 1)
            }
            let lo = clamp(try intOrNil(start), st > 0 ? 0 : count - 1)
            let hi = clamp(try intOrNil(stop), st > 0 ? count : -1)
            return Array(stride(from: lo, to: hi, by: st))
        }
        switch obj.plain {
        case .array(let a):
            if st == 1, start == nil || start == .null, stop == nil || stop == .null { return obj }
            return .array(try indices(a.count).map { a[$0] })
        case .string(let s):
            let scalars = Array(s.unicodeScalars)
            var out = String.UnicodeScalarView()
            for i in try indices(scalars.count) { out.append(scalars[i]) }
            return .string(String(out))
        case .object:
            throw TemplateError(.type, "unhashable type: 'slice'")
        default:
            throw TemplateError(.type, "'\(obj.typeName)' object is not subscriptable")
        }
    }

    /// What `for` iterates: list items, dict keys, string characters; undefined is empty.
    func iterate(_ v: JinjaValue) throws -> [JinjaValue] { try Filters.iterate(v) }

    // MARK: Operators

    func binary(_ op: BinaryOp, _ a: JinjaValue, _ b: JinjaValue) throws -> JinjaValue {
        // Markup + str escapes the plain side (markupsafe), even with autoescaping off.
        if op == .add, a.markupText != nil || b.markupText != nil,
            case .string(let x) = a.plain, case .string(let y) = b.plain
        {
            let left = a.markupText ?? Filters.htmlEscape(x)
            let right = b.markupText ?? Filters.htmlEscape(y)
            return .markup(left + right)
        }
        let (a, b) = (a.plain, b.plain)
        let unsupported = TemplateError(.type, "unsupported operand type(s) for \(op.rawValue): '\(a.typeName)' and '\(b.typeName)'")
        // Integer arithmetic (bools behave as ints).
        if let x = a.asInt, let y = b.asInt {
            func checked(_ r: (partialValue: Int, overflow: Bool)) throws -> JinjaValue {
                if r.overflow { throw TemplateError(.type, "integer overflow in \(op.rawValue)") }
                return .int(r.partialValue)
            }
            switch op {
            case .add: return try checked(x.addingReportingOverflow(y))
            case .subtract: return try checked(x.subtractingReportingOverflow(y))
            case .multiply: return try checked(x.multipliedReportingOverflow(by: y))
            case .divide:
                if y == 0 { throw TemplateError(.type, "division by zero") }
                return .double(Double(x) / Double(y))
            case .floorDivide:
                if y == 0 { throw TemplateError(.type, "integer division or modulo by zero") }
                let q = x / y
                return .int((x % y != 0 && (x < 0) != (y < 0)) ? q - 1 : q)
            case .modulo:
                if y == 0 { throw TemplateError(.type, "integer division or modulo by zero") }
                let r = x % y
                return .int(r != 0 && (r < 0) != (y < 0) ? r + y : r)
            case .power:
                if y < 0 { return .double(pow(Double(x), Double(y))) }
                // Exponentiation by squaring: O(log y) steps for any y (0, 1 and -1 bases included).
                var (result, base, e) = (1, x, y)
                while e > 0 {
                    if e & 1 == 1 {
                        let (p, o) = result.multipliedReportingOverflow(by: base)
                        if o { throw TemplateError(.type, "integer overflow in **") }
                        result = p
                    }
                    e >>= 1
                    if e > 0 {
                        let (sq, o) = base.multipliedReportingOverflow(by: base)
                        if o { throw TemplateError(.type, "integer overflow in **") }
                        base = sq
                    }
                }
                return .int(result)
            }
        }
        if let x = a.asDouble, let y = b.asDouble {
            switch op {
            case .add: return .double(x + y)
            case .subtract: return .double(x - y)
            case .multiply: return .double(x * y)
            case .divide:
                if y == 0 { throw TemplateError(.type, "float division by zero") }
                return .double(x / y)
            case .floorDivide:
                if y == 0 { throw TemplateError(.type, "float floor division by zero") }
                return .double((x / y).rounded(.down))
            case .modulo:
                if y == 0 { throw TemplateError(.type, "float modulo") }
                let r = fmod(x, y)
                return .double(r != 0 && (r < 0) != (y < 0) ? r + y : r)
            case .power: return .double(pow(x, y))
            }
        }
        switch (op, a, b) {
        case (.modulo, .string(let format), _):
            // Python printf-style formatting: a list stands in for a tuple of arguments.
            let args: [JinjaValue]
            if case .array(let items) = b { args = items } else { args = [b] }
            for arg in args { try checkPrintable(arg) }
            let s = try PyString.percentFormat(format, args, maxBytes: options.limits.maxOutputBytes)
            try checkSize(s)
            return .string(s)
        case (.add, .string(let x), .string(let y)):
            try checkResultSize(x.utf8.count + y.utf8.count, "string concatenation")
            return .string(x + y)
        case (.add, .array(let x), .array(let y)):
            try checkListLength(x.count + y.count)
            return .array(x + y)
        case (.multiply, .string(let s), _), (.multiply, _, .string(let s)):
            guard let n = (a.asInt ?? b.asInt) else { throw unsupported }
            try checkRepeat(s.utf8.count, n, "string repetition")
            return .string(String(repeating: s, count: max(n, 0)))
        case (.multiply, .array(let arr), _), (.multiply, _, .array(let arr)):
            guard let n = (a.asInt ?? b.asInt) else { throw unsupported }
            if n > 0, !arr.isEmpty {
                let (total, overflow) = arr.count.multipliedReportingOverflow(by: n)
                try checkListLength(overflow ? .max : total)
            }
            return .array(Array([[JinjaValue]](repeating: arr, count: max(n, 0)).joined()))
        case (.add, .string, _):
            throw TemplateError(.type, "can only concatenate str (not \"\(b.typeName)\") to str")
        case (.add, .array, _):
            throw TemplateError(.type, "can only concatenate list (not \"\(b.typeName)\") to list")
        default:
            throw unsupported
        }
    }

    func compare(_ op: CompareOp, _ a: JinjaValue, _ b: JinjaValue) throws -> Bool {
        switch op {
        case .eq: return a.pyEquals(b)
        case .ne: return !a.pyEquals(b)
        case .in: return try contains(b, a)
        case .notIn: return !(try contains(b, a))
        case .lt: return try a.pyCompare(b, op.rawValue) < 0
        case .le: return try a.pyCompare(b, op.rawValue) <= 0
        case .gt: return try a.pyCompare(b, op.rawValue) > 0
        case .ge: return try a.pyCompare(b, op.rawValue) >= 0
        }
    }

    /// Python `needle in haystack`.
    func contains(_ haystack: JinjaValue, _ needle: JinjaValue) throws -> Bool {
        switch haystack.plain {
        case .string(let s):
            guard case .string(let n) = needle.plain else {
                throw TemplateError(.type, "'in <string>' requires string as left operand, not \(needle.typeName)")
            }
            return PyString.find(s, n) != nil
        case .array(let a): return a.contains { $0.pyEquals(needle) }
        case .object(let o): return o.value(for: needle) != nil
        case .undefined: return false
        case .opaque(let o):
            guard case .iterator(let state) = o.kind else { fallthrough }
            return state.drain().contains { $0.pyEquals(needle) }
        default: throw TemplateError(.type, "argument of type '\(haystack.typeName)' is not iterable")
        }
    }
}

extension JinjaValue {
    /// Python `==`: numbers compare by value across int/float/bool, strings by code points.
    func pyEquals(_ other: JinjaValue) -> Bool {
        switch (self.plain, other.plain) {
        case (.undefined, .undefined), (.null, .null): return true
        case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.pyEquals($1) }
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            for (k, v) in a.entries {
                guard let w = b.value(for: k), v.pyEquals(w) else { return false }
            }
            return true
        case (.opaque(let a), .opaque(let b)): return a === b
        default:
            if let x = asInt, let y = other.asInt { return x == y }
            if let x = asDouble, let y = other.asDouble { return x == y }
            return false
        }
    }

    /// Python ordering (`<` etc.); -1, 0 or 1. Mixed types raise TypeError like Python.
    func pyCompare(_ other: JinjaValue, _ opName: String = "<") throws -> Int {
        switch (self.plain, other.plain) {
        case (.string(let a), .string(let b)):
            if a.utf8.elementsEqual(b.utf8) { return 0 }
            return a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) ? -1 : 1
        case (.array(let a), .array(let b)):
            for (x, y) in zip(a, b) where !x.pyEquals(y) { return try x.pyCompare(y, opName) }
            return a.count < b.count ? -1 : a.count > b.count ? 1 : 0
        default:
            if let x = asInt, let y = other.asInt { return x < y ? -1 : x > y ? 1 : 0 }
            if let x = asDouble, let y = other.asDouble { return x < y ? -1 : x > y ? 1 : 0 }
            if isUndefined || other.isUndefined {
                throw TemplateError(.undefined, "undefined value used in a comparison")
            }
            throw TemplateError(
                .type, "'\(opName)' not supported between instances of '\(typeName)' and '\(other.typeName)'")
        }
    }
}
