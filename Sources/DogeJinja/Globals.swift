import Foundation

/// Global functions every template sees (transformers' environment): `raise_exception`,
/// `strftime_now`, `range`, `namespace`, `dict`. Context variables shadow them.
enum Globals {
    /// jinja2's sandbox refuses ranges longer than this.
    static let maxRange = 100_000

    static let all: [String: JinjaValue] = [
        "raise_exception": function("raise_exception") { args, interp in
            if let m = args.positional.first { try interp.checkPrintable(m) }
            let message = args.positional.first?.pythonString ?? ""
            throw TemplateError(.raised, message)
        },
        "strftime_now": function("strftime_now") { args, interp in
            guard case .string(let format)? = try args.bind(["format"], function: "strftime_now")[0] else {
                throw TemplateError(.type, "strftime_now() needs a format string")
            }
            let timeZone = interp.options.now == nil ? TimeZone.current : TimeZone(identifier: "UTC")!
            return .string(strftime(format, interp.now, timeZone: timeZone))
        },
        "range": function("range", range),
        "namespace": function("namespace") { args, interp in
            let ns = Namespace()
            for a in args.positional {
                guard case .object(let o) = a else { throw TemplateError(.type, "namespace() takes a mapping") }
                for (k, v) in o.entries {
                    try Namespace.checkName(k.pythonString)
                    try ns.attributes.set(k, v)
                }
            }
            for (k, v) in args.keyword {
                try Namespace.checkName(k)
                ns.attributes[k] = v
            }
            interp.namespaces.append(ns)
            return try interp.checkDepth(.opaque(JinjaOpaque(.namespace(ns))))
        },
        "dict": function("dict") { args, interp in
            var o = OrderedObject()
            for a in args.positional {
                guard case .object(let src) = a else { throw TemplateError(.type, "dict() takes a mapping") }
                for (k, v) in src.entries { try o.set(k, v) }
            }
            for (k, v) in args.keyword { o[k] = v }
            return try interp.checkDepth(.object(o))
        },
    ]

    private static func function(
        _ name: String, _ body: @escaping @Sendable (Arguments, Interpreter) throws -> JinjaValue
    ) -> JinjaValue {
        .opaque(JinjaOpaque(.function(BuiltinFunction(name: name, body: body))))
    }

    private static func range(_ args: Arguments, _ interp: Interpreter) throws -> JinjaValue {
        let ints = try args.positional.map { v -> Int in
            guard let i = v.asInt else { throw TemplateError(.type, "'\(v.typeName)' object cannot be interpreted as an integer") }
            return i
        }
        let (start, stop, step): (Int, Int, Int)
        switch ints.count {
        case 1: (start, stop, step) = (0, ints[0], 1)
        case 2: (start, stop, step) = (ints[0], ints[1], 1)
        case 3: (start, stop, step) = (ints[0], ints[1], ints[2])
        default: throw TemplateError(.type, "range expected 1 to 3 integer arguments, got \(ints.count)")
        }
        if step == 0 { throw TemplateError(.type, "range() arg 3 must not be zero") }
        // In floating point: the exact integer span can overflow Int (range(-2**62, 2**62)).
        let span = step > 0 ? Double(stop) - Double(start) : Double(start) - Double(stop)
        let count = max(0, (span / abs(Double(step))).rounded(.up))
        if count > Double(maxRange) {
            throw TemplateError(.limitExceeded, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (\(maxRange)).")
        }
        return .array(stride(from: start, to: stop, by: step).map { .int($0) })
    }
}
