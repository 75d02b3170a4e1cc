/// A small backtracking regex engine over Unicode scalars, for the patterns tokenizers use.
///
/// It follows Oniguruma's leftmost-first semantics (the first alternative that leads to a
/// match wins), which is what HF tokenizers compiles `Split` and `Replace` patterns with.
/// Patterns are compiled to a flat instruction list run by a loop with an explicit
/// backtrack stack; single-class loops such as `\p{L}+` get one instruction so that a
/// greedy run costs one stack entry instead of one per character.
public struct ScalarRegex: Sendable {
    enum Instruction: Sendable {
        case scalar(UInt32)
        case folded(UInt32)
        case set(Int)
        /// A loop over one class: `min...max` repetitions of `sets[set]`.
        case run(set: Int, min: Int, max: Int, mode: RegexNode.RepeatMode)
        case split(Int, Int)
        /// A split whose first branch can only start with a scalar in `filters[filter]`:
        /// when the next scalar cannot, go straight to `second` without a backtrack point.
        case splitIf(Int, Int, filter: Int)
        case jump(Int)
        case look(entry: Int, negative: Bool)
        case atomic(entry: Int)
        case anchor(RegexNode.Anchor)
        /// Records the position in mark `slot` (restored on backtracking).
        case setMark(Int)
        /// Fails unless the position moved since `setMark(slot)`: a loop iteration that
        /// matched nothing must not repeat.
        case requireProgress(Int)
        case match
    }

    /// A backtrack point. `low >= 0` marks a greedy run that can still give back scalars
    /// down to position `low`.
    struct Frame {
        var pc: Int
        var pos: Int
        var low: Int
    }

    public let pattern: String
    private var program: [Instruction] = []
    private var sets: [ScalarSet] = []
    /// Two words per set: membership of scalars 0..<64 and 64..<128.
    private var asciiBits: [UInt64] = []
    private var start = 0
    /// First-scalar filters: two ASCII words each, plus whether any non-ASCII scalar may start.
    private var filterBits: [UInt64] = []
    private var filterNonASCII: [Bool] = []
    /// Loops whose body can match empty (`(a?)*`) use a mark each.
    private var markCount = 0

    public init(_ pattern: String) throws {
        self.pattern = pattern
        let tree = try RegexParser.parse(pattern)
        start = compileSubprogram(tree)
    }

    /// A regex matching `literal` exactly (how HF turns a string `Split` pattern into a regex).
    public init(literal: String) {
        self.pattern = literal
        let node = RegexNode.concat(literal.unicodeScalars.map { .scalar($0.value) })
        start = compileSubprogram(node)
    }

    // MARK: Compilation

    /// Compiles `node` followed by `match`, returning its entry point.
    private mutating func compileSubprogram(_ node: RegexNode) -> Int {
        // Sub-programs are appended after a jump over them so they never run inline.
        let skip = program.count
        program.append(.jump(0))
        let entry = program.count
        compile(node)
        program.append(.match)
        program[skip] = .jump(program.count)
        return entry
    }

    private mutating func addSet(_ set: ScalarSet) -> Int {
        sets.append(set)
        var low: UInt64 = 0, high: UInt64 = 0
        for value in UInt32(0)..<128 where set.contains(value) {
            if value < 64 { low |= 1 << UInt64(value) } else { high |= 1 << UInt64(value - 64) }
        }
        asciiBits += [low, high]
        return sets.count - 1
    }

    /// The scalars a match of `node` can start with: (ASCII bits, non-ASCII possible), or nil
    /// when the node can match empty or starts with an assertion (no filtering then).
    private func firstScalars(_ node: RegexNode) -> (UInt64, UInt64, Bool)? {
        switch node {
        case let .scalar(value):
            if value >= 128 { return (0, 0, true) }
            return value < 64 ? (1 << UInt64(value), 0, false) : (0, 1 << UInt64(value - 64), false)
        case let .folded(value):
            var result: (UInt64, UInt64, Bool) = (0, 0, true)  // non-ASCII folds (ſ, K) too
            for variant in [value] + CaseFolding.variants(of: value) + (value >= 0x61 && value <= 0x7A ? [value - 32] : []) where variant < 128 {
                if variant < 64 { result.0 |= 1 << UInt64(variant) } else { result.1 |= 1 << UInt64(variant - 64) }
            }
            return result
        case let .set(set):
            var low: UInt64 = 0, high: UInt64 = 0
            for value in UInt32(0)..<128 where set.contains(value) {
                if value < 64 { low |= 1 << UInt64(value) } else { high |= 1 << UInt64(value - 64) }
            }
            return (low, high, true)
        case let .concat(nodes):
            guard let first = nodes.first else { return nil }
            return firstScalars(first)
        case let .alternation(branches):
            var result: (UInt64, UInt64, Bool) = (0, 0, false)
            for branch in branches {
                guard let first = firstScalars(branch) else { return nil }
                result = (result.0 | first.0, result.1 | first.1, result.2 || first.2)
            }
            return result
        case let .repeated(body, min, _, _):
            return min > 0 ? firstScalars(body) : nil
        case let .atomic(body):
            return firstScalars(body)
        case .empty, .lookahead, .anchor:
            return nil
        }
    }

    private mutating func addFilter(for node: RegexNode) -> Int? {
        guard !node.canBeEmpty, let (low, high, nonASCII) = firstScalars(node) else { return nil }
        filterBits += [low, high]
        filterNonASCII.append(nonASCII)
        return filterNonASCII.count - 1
    }

    @inline(__always)
    private func filterAccepts(_ index: Int, _ value: UInt32) -> Bool {
        if value < 128 {
            return filterBits[2 * index + (value < 64 ? 0 : 1)] & (1 << UInt64(value & 63)) != 0
        }
        return filterNonASCII[index]
    }

    @inline(__always)
    private func setContains(_ index: Int, _ value: UInt32) -> Bool {
        if value < 128 {
            return asciiBits[2 * index + (value < 64 ? 0 : 1)] & (1 << UInt64(value & 63)) != 0
        }
        return sets[index].contains(value)
    }

    private mutating func compile(_ node: RegexNode) {
        switch node {
        case .empty:
            break
        case let .scalar(value):
            program.append(.scalar(value))
        case let .folded(value):
            program.append(.folded(value))
        case let .set(set):
            program.append(.set(addSet(set)))
        case let .concat(nodes):
            nodes.forEach { compile($0) }
        case let .alternation(branches):
            var jumpsToEnd: [Int] = []
            for (offset, branch) in branches.enumerated() {
                if offset == branches.count - 1 {
                    compile(branch)
                } else {
                    let split = program.count
                    program.append(.split(0, 0))
                    compile(branch)
                    jumpsToEnd.append(program.count)
                    program.append(.jump(0))
                    if let filter = addFilter(for: branch) {
                        program[split] = .splitIf(split + 1, program.count, filter: filter)
                    } else {
                        program[split] = .split(split + 1, program.count)
                    }
                }
            }
            for jump in jumpsToEnd { program[jump] = .jump(program.count) }
        case let .repeated(body, min, max, mode):
            compileRepeat(body, min: min, max: max, mode: mode)
        case let .lookahead(body, negative):
            let index = program.count
            program.append(.look(entry: 0, negative: negative))
            let entry = compileSubprogram(body)
            program[index] = .look(entry: entry, negative: negative)
        case let .atomic(body):
            let index = program.count
            program.append(.atomic(entry: 0))
            let entry = compileSubprogram(body)
            program[index] = .atomic(entry: entry)
        case let .anchor(anchor):
            program.append(.anchor(anchor))
        }
    }

    private mutating func compileRepeat(_ body: RegexNode, min: Int, max: Int, mode: RegexNode.RepeatMode) {
        if case let .set(set) = body, mode != .lazy {
            program.append(.run(set: addSet(set), min: min, max: max, mode: mode))
            return
        }
        if case let .scalar(value) = body, mode != .lazy {
            let set = ScalarSet(items: [.range(value, value)])
            program.append(.run(set: addSet(set), min: min, max: max, mode: mode))
            return
        }
        if mode == .possessive {
            compile(.atomic(.repeated(body, min: min, max: max, mode: .greedy)))
            return
        }
        let greedy = mode == .greedy
        for _ in 0..<min { compile(body) }
        if max == .max {
            // loop: split(body, exit); body; jump loop
            let loop = program.count
            program.append(.split(0, 0))
            if body.canBeEmpty {
                let mark = markCount
                markCount += 1
                program.append(.setMark(mark))
                compile(body)
                program.append(.requireProgress(mark))
            } else {
                compile(body)
            }
            program.append(.jump(loop))
            let exit = program.count
            program[loop] = greedy ? .split(loop + 1, exit) : .split(exit, loop + 1)
            return
        }
        var splits: [Int] = []
        for _ in min..<max {
            splits.append(program.count)
            program.append(.split(0, 0))
            compile(body)
        }
        let exit = program.count
        for split in splits { program[split] = greedy ? .split(split + 1, exit) : .split(exit, split + 1) }
    }

    // MARK: Matching

    /// The first match starting at or after `from`, as scalar offsets.
    public func firstMatch(in text: UnsafeBufferPointer<UInt32>, from: Int = 0) -> Range<Int>? {
        var stack: [Frame] = []
        stack.reserveCapacity(16)
        var position = from
        while position <= text.count {
            if let end = run(start, at: position, text, &stack) { return position..<end }
            position += 1
        }
        return nil
    }

    /// All non-overlapping matches left to right (an empty match advances by one scalar),
    /// like Oniguruma's `find_iter`.
    public func matches(in text: UnsafeBufferPointer<UInt32>) -> [Range<Int>] {
        var stack: [Frame] = []
        stack.reserveCapacity(16)
        var result: [Range<Int>] = []
        var position = 0
        while position <= text.count {
            if let end = run(start, at: position, text, &stack) {
                result.append(position..<end)
                position = end > position ? end : position + 1
            } else {
                position += 1
            }
        }
        return result
    }

    public func matches(in scalars: [UInt32]) -> [Range<Int>] {
        scalars.withUnsafeBufferPointer { matches(in: $0) }
    }

    public func matches(in scalars: ArraySlice<UInt32>) -> [Range<Int>] {
        scalars.withUnsafeBufferPointer { matches(in: $0) }
    }

    private func isWordAt(_ position: Int, _ text: UnsafeBufferPointer<UInt32>) -> Bool {
        position >= 0 && position < text.count && UnicodeTables.isWord(text[position])
    }

    private func anchorHolds(_ anchor: RegexNode.Anchor, _ pos: Int, _ text: UnsafeBufferPointer<UInt32>) -> Bool {
        switch anchor {
        case .lineStart: return pos == 0 || text[pos - 1] == 0x0A
        case .lineEnd: return pos == text.count || text[pos] == 0x0A
        case .textStart: return pos == 0
        case .textEnd: return pos == text.count
        case .textEndBeforeNewline: return pos == text.count || (pos == text.count - 1 && text[pos] == 0x0A)
        case .wordBoundary: return isWordAt(pos - 1, text) != isWordAt(pos, text)
        case .notWordBoundary: return isWordAt(pos - 1, text) == isWordAt(pos, text)
        }
    }

    /// Runs from instruction `entry` at `position`; returns the end of the first successful path.
    private func run(_ entry: Int, at position: Int, _ text: UnsafeBufferPointer<UInt32>, _ stack: inout [Frame]) -> Int? {
        let base = stack.count
        var pc = entry
        var pos = position
        let count = text.count
        var marks = markCount > 0 ? [Int](repeating: -1, count: markCount) : []
        while true {
            var failed = false
            switch program[pc] {
            case let .scalar(value):
                if pos < count && text[pos] == value { pos += 1; pc += 1 } else { failed = true }
            case let .folded(value):
                if pos < count && CaseFolding.fold(text[pos]) == value { pos += 1; pc += 1 } else { failed = true }
            case let .set(index):
                if pos < count && setContains(index, text[pos]) { pos += 1; pc += 1 } else { failed = true }
            case let .run(index, min, max, mode):
                var end = pos
                let limit = max == .max ? count : Swift.min(count, pos &+ max)
                while end < limit && setContains(index, text[end]) { end += 1 }
                if end - pos < min {
                    failed = true
                } else {
                    if mode == .greedy && end - pos > min {
                        stack.append(Frame(pc: pc + 1, pos: end - 1, low: pos + min))
                    }
                    pos = end
                    pc += 1
                }
            case let .split(first, second):
                stack.append(Frame(pc: second, pos: pos, low: -1))
                pc = first
            case let .splitIf(first, second, filter):
                if pos < count && filterAccepts(filter, text[pos]) {
                    stack.append(Frame(pc: second, pos: pos, low: -1))
                    pc = first
                } else {
                    pc = second
                }
            case let .jump(target):
                pc = target
            case let .look(entry, negative):
                let found = run(entry, at: pos, text, &stack) != nil
                if found != negative { pc += 1 } else { failed = true }
            case let .atomic(entry):
                if let end = run(entry, at: pos, text, &stack) { pos = end; pc += 1 } else { failed = true }
            case let .anchor(anchor):
                if anchorHolds(anchor, pos, text) { pc += 1 } else { failed = true }
            case let .setMark(slot):
                stack.append(Frame(pc: -2 - slot, pos: marks[slot], low: -1))
                marks[slot] = pos
                pc += 1
            case let .requireProgress(slot):
                if pos != marks[slot] { pc += 1 } else { failed = true }
            case .match:
                stack.removeSubrange(base...)
                return pos
            }
            while failed {
                guard stack.count > base else { return nil }
                let frame = stack.removeLast()
                if frame.pc <= -2 {
                    marks[-2 - frame.pc] = frame.pos  // undo a mark and keep backtracking
                    continue
                }
                failed = false
                pc = frame.pc
                pos = frame.pos
                if frame.low >= 0 && frame.pos > frame.low {
                    // Give back one more scalar next time.
                    stack.append(Frame(pc: frame.pc, pos: frame.pos - 1, low: frame.low))
                }
            }
        }
    }
}
