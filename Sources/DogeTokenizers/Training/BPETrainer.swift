/// Learns byte-pair-encoding merges from word counts, reproducing Hugging Face `tokenizers`'
/// `BpeTrainer` step for step so the same input gives the same vocabulary and merges:
///
/// 1. the special tokens take the first ids, then the alphabet (every character of the words
///    plus `initialAlphabet`) sorted by code point;
/// 2. pair counts over the distinct words, weighted by word count, go into a max-heap ordered
///    by count, ties broken by the smaller pair of ids;
/// 3. the top pair is merged in the words that heap entry lists, the neighbouring pairs'
///    counts are updated incrementally and pairs that gained words are queued again.
///
/// Stale heap entries are refreshed lazily (popped, re-counted, pushed back), as HF does.
/// Tokens are kept as Unicode scalar arrays, never `String`, so canonically equivalent
/// spellings (NFC/NFD) stay different tokens, as they are in HF.
public struct BPETrainer: Sendable {
    /// The target size, special tokens and alphabet included.
    public var vocabularySize: Int
    /// Token contents given the first ids, in this order.
    public var specialTokens: [String]
    /// Characters kept in the vocabulary even when the corpus lacks them (byte-level: all 256).
    public var initialAlphabet: [UInt32]
    /// Pairs seen fewer times than this are never merged.
    public var minFrequency: Int
    /// Marks symbols inside a word (`##` in WordPiece style); empty for byte-level BPE.
    public var continuingSubwordPrefix: [UInt32] = []
    /// Marks a word's last symbol (`</w>`); empty for byte-level BPE.
    public var endOfWordSuffix: [UInt32] = []

    public init(vocabularySize: Int, specialTokens: [String] = [], initialAlphabet: [UInt32] = [], minFrequency: Int = 0) {
        self.vocabularySize = vocabularySize
        self.specialTokens = specialTokens
        self.initialAlphabet = initialAlphabet
        self.minFrequency = minFrequency
    }

    /// What training produced: the vocabulary (index = id) and the merges in rank order.
    public struct Result: Sendable, Equatable {
        public var vocabulary: [[UInt32]]
        public var merges: [Merge]
        /// The ids of `specialTokens`, in their order.
        public var specialTokenIDs: [Int]

        public struct Merge: Sendable, Equatable {
            public var left: Int
            public var right: Int
            public var merged: Int
        }
    }

    /// Progress of the merge stage: merges done so far and the most the vocabulary allows.
    public typealias Progress = (_ done: Int, _ total: Int) -> Void

    /// Trains on distinct `words` (each a scalar sequence, already pre-tokenized and
    /// byte-mapped) seen `counts[i]` times.
    public func train(words: [[UInt32]], counts: [Int], progress: Progress? = nil) throws -> Result {
        precondition(words.count == counts.count, "one count per word")
        var vocabulary = TrainingVocabulary()
        let specialIDs = specialTokens.map { vocabulary.add($0.unicodeScalars.map(\.value)) }

        var alphabet = Set(initialAlphabet)
        for word in words { alphabet.formUnion(word) }
        var scalarIDs: [UInt32: Int32] = [:]
        for scalar in alphabet.sorted() { scalarIDs[scalar] = vocabulary.add([scalar]) }
        let minimum = vocabulary.count
        guard vocabularySize >= minimum else {
            throw TokenizerTrainingError.vocabularyTooSmall(requested: vocabularySize, minimum: minimum)
        }

        var symbols: [[Int32]]
        if continuingSubwordPrefix.isEmpty && endOfWordSuffix.isEmpty {
            symbols = words.map { word in word.map { scalarIDs[$0]! } }
        } else {
            symbols = decoratedSymbols(words, &vocabulary)
        }
        var state = PairState(counts: counts)
        var heap = state.countPairs(symbols)

        let total = vocabularySize - minimum
        var merges: [(pair: UInt64, merged: Int32)] = []
        var changes: [(pair: UInt64, delta: Int32)] = []
        while vocabulary.count < vocabularySize, var top = heap.pop() {
            let current = state.pairCounts[top.pair] ?? 0
            if top.count != current {
                // A stale entry: requeue it with today's count.
                top.count = current
                heap.push(top)
                continue
            }
            if top.count < 1 || minFrequency > top.count { break }
            let (left, right) = unpack(top.pair)
            var rightToken = vocabulary.tokens[Int(right)][...]
            if !continuingSubwordPrefix.isEmpty && rightToken.starts(with: continuingSubwordPrefix) {
                rightToken = rightToken.dropFirst(continuingSubwordPrefix.count)
            }
            let mergedID = vocabulary.add(vocabulary.tokens[Int(left)] + rightToken)
            merges.append((top.pair, mergedID))

            // Like HF, only the words this entry lists are merged, and the merged pair's own
            // count is left as it was (HF never decrements it).
            var gained: [UInt64: [Int32]] = [:]
            for word in top.words {
                changes.removeAll(keepingCapacity: true)
                Self.merge(&symbols[Int(word)], left, right, into: mergedID, changes: &changes)
                let weight = counts[Int(word)]
                for change in changes {
                    state.pairCounts[change.pair, default: 0] += Int(change.delta) * weight
                    if change.delta > 0 { gained[change.pair, default: []].appendOnce(word) }
                }
            }
            // HF pushes these in hash order; sorting keeps ours deterministic.
            for (pair, words) in gained.sorted(by: { $0.key < $1.key }) {
                let count = state.pairCounts[pair] ?? 0
                if count > 0 { heap.push(PairEntry(pair: pair, count: count, words: words)) }
            }
            progress?(vocabulary.count - minimum, total)
        }

        // A pair merged twice (possible when a token string arises from two different pairs)
        // keeps its last rank, as HF's merge map does.
        var lastRank: [UInt64: Int] = [:]
        for (rank, merge) in merges.enumerated() { lastRank[merge.pair] = rank }
        let finalMerges = merges.enumerated().compactMap { rank, merge -> Result.Merge? in
            guard lastRank[merge.pair] == rank else { return nil }
            let (left, right) = unpack(merge.pair)
            return Result.Merge(left: Int(left), right: Int(right), merged: Int(merge.merged))
        }
        return Result(vocabulary: vocabulary.tokens, merges: finalMerges, specialTokenIDs: specialIDs.map(Int.init))
    }

    /// Symbols with the prefix on all but the first and the suffix on the last, each added to
    /// the vocabulary when new. HF adds these in hash-map order, so its ids for them vary from
    /// run to run; ours follow the sorted words, which is at least reproducible.
    private func decoratedSymbols(_ words: [[UInt32]], _ vocabulary: inout TrainingVocabulary) -> [[Int32]] {
        var symbols = [[Int32]](repeating: [], count: words.count)
        let order = words.indices.sorted { words[$0].lexicographicallyPrecedes(words[$1]) }
        for index in order {
            let word = words[index]
            symbols[index] = word.indices.map { position in
                var token = position == 0 ? [] : continuingSubwordPrefix
                token.append(word[position])
                if position == word.count - 1 { token += endOfWordSuffix }
                return vocabulary.add(token)
            }
        }
        return symbols
    }

    /// Replaces each `left right` in `word` by `merged`, left to right, and reports how the
    /// neighbouring pairs change, exactly as HF's `Word::merge`.
    static func merge(_ word: inout [Int32], _ left: Int32, _ right: Int32, into merged: Int32,
                      changes: inout [(pair: UInt64, delta: Int32)]) {
        let count = word.count
        var read = 0, write = 0
        while read < count {
            if word[read] == left && read + 1 < count && word[read + 1] == right {
                if write > 0 {
                    changes.append((pack(word[write - 1], left), -1))
                    changes.append((pack(word[write - 1], merged), 1))
                }
                if read + 2 < count {
                    changes.append((pack(right, word[read + 2]), -1))
                    changes.append((pack(merged, word[read + 2]), 1))
                }
                word[write] = merged
                read += 2
            } else {
                word[write] = word[read]
                read += 1
            }
            write += 1
        }
        word.removeLast(count - write)
    }
}

/// A pair of ids as one key; comparing keys compares (left, right) lexicographically.
@inline(__always) func pack(_ left: Int32, _ right: Int32) -> UInt64 { UInt64(UInt32(left)) << 32 | UInt64(UInt32(right)) }
@inline(__always) func unpack(_ pair: UInt64) -> (Int32, Int32) { (Int32(pair >> 32), Int32(truncatingIfNeeded: pair)) }

/// Token ↔ id during training.
struct TrainingVocabulary {
    private(set) var tokens: [[UInt32]] = []
    private var ids: [[UInt32]: Int32] = [:]
    var count: Int { tokens.count }

    /// The id of `token`, adding it when new.
    mutating func add(_ token: [UInt32]) -> Int32 {
        if let id = ids[token] { return id }
        let id = Int32(tokens.count)
        tokens.append(token)
        ids[token] = id
        return id
    }
}

/// Pair counts over the corpus and the initial heap.
struct PairState {
    let counts: [Int]
    var pairCounts: [UInt64: Int] = [:]

    init(counts: [Int]) { self.counts = counts }

    /// Counts every adjacent pair (weighted by word count) and queues one entry per pair
    /// listing the words that contain it.
    mutating func countPairs(_ symbols: [[Int32]]) -> PairHeap {
        var wordsOf: [UInt64: [Int32]] = [:]
        for (index, word) in symbols.enumerated() where word.count > 1 {
            let weight = counts[index]
            for position in 0..<(word.count - 1) {
                let pair = pack(word[position], word[position + 1])
                pairCounts[pair, default: 0] += weight
                wordsOf[pair, default: []].appendOnce(Int32(index))
            }
        }
        var heap = PairHeap()
        for (pair, words) in wordsOf.sorted(by: { $0.key < $1.key }) {
            let count = pairCounts[pair] ?? 0
            if count > 0 { heap.push(PairEntry(pair: pair, count: count, words: words)) }
        }
        return heap
    }
}

extension Array where Element == Int32 {
    /// Appends `value` unless it is already last (words are visited in order, so this dedupes).
    @inline(__always) mutating func appendOnce(_ value: Int32) {
        if last != value { append(value) }
    }
}

/// A queued pair with the count it had when queued and the words to merge it in.
struct PairEntry {
    var pair: UInt64
    var count: Int
    var words: [Int32]

    /// HF's order: higher count first, then the smaller pair.
    @inline(__always) static func outranks(_ a: PairEntry, _ b: PairEntry) -> Bool {
        a.count != b.count ? a.count > b.count : a.pair < b.pair
    }
}

/// A binary max-heap with the same sift rules as Rust's `BinaryHeap`, so entries that compare
/// equal (one pair queued twice with the same count) come out in the same order as in HF.
struct PairHeap {
    private(set) var items: [PairEntry] = []

    var isEmpty: Bool { items.isEmpty }

    mutating func push(_ entry: PairEntry) {
        items.append(entry)
        siftUp(from: items.count - 1)
    }

    mutating func pop() -> PairEntry? {
        guard var item = items.popLast() else { return nil }
        if !items.isEmpty {
            swap(&item, &items[0])
            siftDownToBottom()
        }
        return item
    }

    private mutating func siftUp(from start: Int) {
        var hole = start
        let element = items[hole]
        while hole > 0 {
            let parent = (hole - 1) / 2
            guard PairEntry.outranks(element, items[parent]) else { break }
            items[hole] = items[parent]
            hole = parent
        }
        items[hole] = element
    }

    /// Rust's `sift_down_to_bottom`: walk the hole to a leaf along the larger children, then sift up.
    private mutating func siftDownToBottom() {
        let end = items.count
        let element = items[0]
        var hole = 0
        var child = 1
        while child + 2 <= end {
            if !PairEntry.outranks(items[child], items[child + 1]) { child += 1 }
            items[hole] = items[child]
            hole = child
            child = 2 * hole + 1
        }
        if child == end - 1 {
            items[hole] = items[child]
            hole = child
        }
        items[hole] = element
        siftUp(from: hole)
    }
}
