import Foundation

// Resource bounds for rendering untrusted templates. Each operation that can make a value much
// larger than its inputs (repetition, padding, printing a container that shares one big string
// many times, concatenating lists) checks its result size *before* allocating it, so no template
// can exhaust memory; the render deadline, checked on every loop iteration and macro call,
// stops templates whose individual steps are bounded but whose number of steps is not.

extension Interpreter {
    /// Throws unless `bytes` (the size a result would have) fits the output limit.
    func checkResultSize(_ bytes: Int, _ what: String) throws {
        if bytes > options.limits.maxOutputBytes {
            throw TemplateError(.limitExceeded, "\(what) would exceed the output limit of \(options.limits.maxOutputBytes) bytes")
        }
    }

    /// `unit * count` bytes, refusing overflow and results over the output limit.
    func checkRepeat(_ unit: Int, _ count: Int, _ what: String) throws {
        guard count > 0, unit > 0 else { return }
        let (total, overflow) = unit.multipliedReportingOverflow(by: count)
        if overflow || total > options.limits.maxOutputBytes {
            throw TemplateError(.limitExceeded, "\(what) would exceed the output limit of \(options.limits.maxOutputBytes) bytes")
        }
    }

    /// Refuses to print a container whose `str()` would exceed the output limit (a list can hold
    /// the same 16 MB string a million times at the cost of one).
    func checkPrintable(_ v: JinjaValue) throws {
        switch v {
        case .array, .object, .opaque:
            if v.printedSizeExceeds(options.limits.maxOutputBytes) {
                throw TemplateError(.limitExceeded, "printing this \(v.typeName) would exceed the output limit of \(options.limits.maxOutputBytes) bytes")
            }
        default: break
        }
    }

    /// Refuses lists longer than the loop-iteration limit (`a + b`, repetition).
    func checkListLength(_ count: Int) throws {
        if count > options.limits.maxLoopIterations {
            throw TemplateError(.limitExceeded, "list of \(count) items exceeds the limit of \(options.limits.maxLoopIterations)")
        }
    }

    /// Appends `str(v)` to `out`, within the output limit.
    func append(_ v: JinjaValue, to out: inout String) throws {
        try checkPrintable(v)
        v.appendString(to: &out)
        try checkSize(out)
    }

    /// Throws once the render has run longer than `maxRenderSeconds`.
    func checkDeadline() throws {
        if DispatchTime.now().uptimeNanoseconds > deadline {
            throw TemplateError(.limitExceeded, "rendering took longer than \(options.limits.maxRenderSeconds) seconds")
        }
    }
}

extension JinjaValue {
    /// Whether `str(self)` would be longer than `limit` bytes (a lower bound on its size is
    /// accumulated and the walk stops as soon as it passes the limit, so this costs at most
    /// O(limit) however much sharing the value has).
    func printedSizeExceeds(_ limit: Int) -> Bool {
        var budget = limit
        var seen = Set<ObjectIdentifier>()
        return !fits(&budget, &seen)
    }

    private func fits(_ budget: inout Int, _ seen: inout Set<ObjectIdentifier>) -> Bool {
        switch self {
        case .string(let s): budget -= s.utf8.count + 2
        case .array(let a):
            budget -= 2
            for v in a {
                budget -= 2
                if budget < 0 || !v.fits(&budget, &seen) { return false }
            }
        case .object(let o):
            budget -= 2
            for (k, v) in o.entries {
                budget -= 4
                if budget < 0 || !k.fits(&budget, &seen) || !v.fits(&budget, &seen) { return false }
            }
        case .opaque(let op):
            switch op.kind {
            case .namespace(let ns):
                guard seen.insert(ObjectIdentifier(ns)).inserted else { budget -= 5; break }
                budget -= 12
                return JinjaValue.object(ns.attributes).fits(&budget, &seen)
            case .markup(let s): budget -= s.utf8.count + 9
            default: budget -= 16
            }
        default: budget -= 1
        }
        return budget >= 0
    }
}
