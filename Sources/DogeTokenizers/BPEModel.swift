/// The BPE model of tokenizer.json (`"model": {"type": "BPE", ...}`).
///
/// Words arrive as Unicode scalars (already byte-mapped for byte-level tokenizers). Each
/// scalar becomes a symbol, then the lowest-ranked adjacent pair is merged repeatedly,
/// leftmost first among equal ranks, exactly like HF's `Word::merge_all`.
struct BPEModel: Sendable {
    /// Token scalars → id. Keyed by scalars, not `String`, so NFC/NFD spellings stay distinct.
    let vocab: [[UInt32]: Int]
    let idToToken: [String?]
    /// `(left << 32) | right` → (rank, merged id).
    let merges: [UInt64: (rank: Int32, id: Int32)]
    let unkToken: String?
    let unkID: Int?
    let fuseUnk: Bool
    let byteFallback: Bool
    let ignoreMerges: Bool
    let continuingSubwordPrefix: [UInt32]
    let endOfWordSuffix: [UInt32]
    /// Single scalar → id, when no prefix/suffix decorates symbols (the common, hot case).
    private let scalarIDs: [UInt32: Int]
    /// `<0xAB>` ids for byte fallback (-1 where absent).
    private let byteIDs: [Int]

    init(json: JSONField) throws {
        // Walk the raw nodes: building a JSON path per entry would dominate loading 100k+ vocabularies.
        var vocab: [[UInt32]: Int] = [:]
        var maxID = -1
        let vocabField = json["vocab"]
        var idToToken: [String?] = []
        if !vocabField.isNull {
            guard case let .object(members) = vocabField.node else { throw vocabField.fail("expected an object, found \(vocabField.node.typeName)") }
            vocab.reserveCapacity(members.count)
            for (token, value) in members {
                guard case let .int(id) = value, id >= 0 else { throw vocabField[token].fail("expected a non-negative integer id") }
                guard id <= TokenizerLimits.maxTokenID else {
                    throw vocabField[token].fail("id \(id) is over the limit of \(TokenizerLimits.maxTokenID)")
                }
                vocab[token.unicodeScalars.map(\.value)] = id
                maxID = max(maxID, id)
            }
            idToToken = [String?](repeating: nil, count: maxID + 1)
            for (token, value) in members { if case let .int(id) = value { idToToken[id] = token } }
        }
        self.vocab = vocab
        self.idToToken = idToToken
        unkToken = try json["unk_token"].optionalString()
        fuseUnk = try json["fuse_unk"].bool(default: false)
        byteFallback = try json["byte_fallback"].bool(default: false)
        ignoreMerges = try json["ignore_merges"].bool(default: false)
        continuingSubwordPrefix = (try json["continuing_subword_prefix"].optionalString() ?? "").unicodeScalars.map(\.value)
        endOfWordSuffix = (try json["end_of_word_suffix"].optionalString() ?? "").unicodeScalars.map(\.value)
        if let unkToken {
            guard let id = vocab[unkToken.unicodeScalars.map(\.value)] else {
                throw json["unk_token"].fail("unk_token \(unkToken.debugDescription) is not in the vocabulary")
            }
            unkID = id
        } else {
            unkID = nil
        }

        var merges: [UInt64: (rank: Int32, id: Int32)] = [:]
        let mergesField = json["merges"]
        var mergeNodes: [JSONNode] = []
        if !mergesField.isNull {
            guard case let .array(items) = mergesField.node else { throw mergesField.fail("expected an array, found \(mergesField.node.typeName)") }
            mergeNodes = items
        }
        merges.reserveCapacity(mergeNodes.count)
        let prefixLength = continuingSubwordPrefix.count
        for (rank, node) in mergeNodes.enumerated() {
            // The path is only built when reporting an error.
            var field: JSONField { JSONField(node, path: "\(mergesField.path)[\(rank)]") }
            var left: [UInt32], right: [UInt32]
            switch node {
            case let .string(line):
                let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw field.fail("a merge needs exactly two parts") }
                (left, right) = (parts[0].unicodeScalars.map(\.value), parts[1].unicodeScalars.map(\.value))
            case let .array(items):
                guard items.count == 2, case let .string(a) = items[0], case let .string(b) = items[1] else {
                    throw field.fail("a merge needs exactly two strings")
                }
                (left, right) = (a.unicodeScalars.map(\.value), b.unicodeScalars.map(\.value))
            default:
                throw field.fail("expected \"a b\" or [\"a\", \"b\"], found \(node.typeName)")
            }
            let describe = { String(scalars: left).debugDescription + " + " + String(scalars: right).debugDescription }
            guard let leftID = vocab[left], let rightID = vocab[right] else {
                throw field.fail("merge \(describe()) uses a token missing from the vocabulary")
            }
            let merged = left + right.dropFirst(min(prefixLength, right.count))
            guard let mergedID = vocab[merged] else {
                throw field.fail("the result of merge \(describe()) is missing from the vocabulary")
            }
            let key = UInt64(leftID) << 32 | UInt64(rightID)
            if merges[key] == nil { merges[key] = (Int32(rank), Int32(mergedID)) }
        }
        self.merges = merges

        var scalarIDs: [UInt32: Int] = [:]
        for (token, id) in vocab where token.count == 1 { scalarIDs[token[0]] = id }
        self.scalarIDs = scalarIDs
        byteIDs = (0..<256).map { byte in
            let name = "<0x" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2) + ">"
            return vocab[name.unicodeScalars.map(\.value)] ?? -1
        }
    }

    func id(of token: [UInt32]) -> Int? { vocab[token] }

    func token(of id: Int) -> String? { id >= 0 && id < idToToken.count ? idToToken[id] : nil }

    var vocabularySize: Int { vocab.count }

    /// The ids of one pre-tokenized word.
    func tokenize(_ word: ArraySlice<UInt32>, into out: inout [Int]) {
        if word.isEmpty { return }
        if ignoreMerges, let id = vocab[Array(word)] {
            out.append(id)
            return
        }
        var symbols = initialSymbols(word)
        if symbols.count > 1 { mergeAll(&symbols) }
        for symbol in symbols where symbol.length > 0 { out.append(symbol.id) }
    }

    struct Symbol {
        var id: Int
        var prev: Int
        var next: Int
        var length: Int
    }

    private func initialSymbols(_ word: ArraySlice<UInt32>) -> [Symbol] {
        var ids: [Int] = []
        ids.reserveCapacity(word.count)
        var pendingUnk = false
        let decorated = !continuingSubwordPrefix.isEmpty || !endOfWordSuffix.isEmpty
        let last = word.endIndex - 1
        for index in word.indices {
            let scalar = word[index]
            var id: Int?
            if decorated {
                var key = index == word.startIndex ? [] : continuingSubwordPrefix
                key.append(scalar)
                if index == last { key += endOfWordSuffix }
                id = vocab[key]
            } else {
                id = scalarIDs[scalar]
            }
            if let id {
                pendingUnk = false
                ids.append(id)
                continue
            }
            if byteFallback {
                let bytes = Array(String(Unicode.Scalar(scalar) ?? "\u{FFFD}").utf8)
                if bytes.allSatisfy({ byteIDs[Int($0)] >= 0 }) {
                    pendingUnk = false
                    ids.append(contentsOf: bytes.map { byteIDs[Int($0)] })
                    continue
                }
            }
            // Unknown: one unk (fused with a preceding unk if asked), or dropped without unk_token.
            guard let unkID else { continue }
            if fuseUnk && pendingUnk { continue }
            ids.append(unkID)
            pendingUnk = true
        }
        return ids.enumerated().map { Symbol(id: $1, prev: $0 - 1, next: $0 + 1, length: 1) }
    }

    /// A candidate merge: lower rank first, then leftmost position.
    struct Candidate: Comparable {
        var rank: Int32
        var position: Int32
        var newID: Int32
        static func < (a: Candidate, b: Candidate) -> Bool {
            a.rank != b.rank ? a.rank < b.rank : a.position < b.position
        }
    }

    private func mergeAll(_ symbols: inout [Symbol]) {
        var queue = MinHeap<Candidate>()
        for index in 0..<(symbols.count - 1) {
            if let merge = merges[UInt64(symbols[index].id) << 32 | UInt64(symbols[index + 1].id)] {
                queue.push(Candidate(rank: merge.rank, position: Int32(index), newID: merge.id))
            }
        }
        let count = symbols.count
        while let top = queue.pop() {
            let position = Int(top.position)
            guard symbols[position].length > 0, symbols[position].next < count else { continue }
            let nextPosition = symbols[position].next
            let right = symbols[nextPosition]
            // Skip stale candidates whose pair changed since they were queued.
            guard let merge = merges[UInt64(symbols[position].id) << 32 | UInt64(right.id)], merge.id == top.newID else { continue }
            symbols[position].id = Int(top.newID)
            symbols[position].length += right.length
            symbols[position].next = right.next
            symbols[nextPosition].length = 0
            if right.next < count { symbols[right.next].prev = position }
            let current = symbols[position]
            if current.prev >= 0, let merge = merges[UInt64(symbols[current.prev].id) << 32 | UInt64(current.id)] {
                queue.push(Candidate(rank: merge.rank, position: Int32(current.prev), newID: merge.id))
            }
            if current.next < count, let merge = merges[UInt64(current.id) << 32 | UInt64(symbols[current.next].id)] {
                queue.push(Candidate(rank: merge.rank, position: Int32(position), newID: merge.id))
            }
        }
    }
}

/// A binary min-heap, enough for the merge queue.
struct MinHeap<Element: Comparable> {
    private var items: [Element] = []

    mutating func push(_ item: Element) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < items.count && items[left] < items[smallest] { smallest = left }
                if right < items.count && items[right] < items[smallest] { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
