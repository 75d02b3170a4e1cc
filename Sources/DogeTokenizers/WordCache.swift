/// Remembers the ids of words already tokenized during one `encode` call.
///
/// Keys are compared by content straight from the piece being encoded, so a cache hit
/// allocates nothing (a `Dictionary<[UInt32], [Int]>` would need a new array per lookup).
/// Open addressing over flat key and value buffers.
struct WordCache {
    private struct Slot {
        var hash: UInt64 = 0
        var keyStart: Int32 = -1  // -1: empty
        var keyCount: Int32 = 0
        var idStart: Int32 = 0
        var idCount: Int32 = 0
    }

    private var slots = [Slot](repeating: Slot(), count: 1024)
    private var keys: [UInt32] = []
    private(set) var ids: [Int] = []
    private var count = 0
    /// Stop inserting past this many words (memory bound for huge inputs with few repeats).
    private let capacityLimit = 1 << 20

    static let maxWordLength = 128

    @inline(__always)
    static func hash(_ word: UnsafeBufferPointer<UInt32>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for value in word { hash = (hash ^ UInt64(value)) &* 0x0000_0100_0000_01B3 }
        return hash ^ (hash >> 29)
    }

    /// The range in `ids` of a cached word.
    func find(_ word: UnsafeBufferPointer<UInt32>, hash: UInt64) -> Range<Int>? {
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = slots[index]
            if slot.keyStart < 0 { return nil }
            if slot.hash == hash && Int(slot.keyCount) == word.count {
                let start = Int(slot.keyStart)
                var equal = true
                for offset in 0..<word.count where keys[start + offset] != word[offset] {
                    equal = false
                    break
                }
                if equal { return Int(slot.idStart)..<Int(slot.idStart + slot.idCount) }
            }
            index = (index + 1) & mask
        }
    }

    mutating func insert(_ word: UnsafeBufferPointer<UInt32>, hash: UInt64, ids newIDs: ArraySlice<Int>) {
        guard count < capacityLimit else { return }
        if (count + 1) * 2 > slots.count { grow() }
        let slot = Slot(hash: hash, keyStart: Int32(keys.count), keyCount: Int32(word.count),
                        idStart: Int32(ids.count), idCount: Int32(newIDs.count))
        keys.append(contentsOf: word)
        ids.append(contentsOf: newIDs)
        place(slot)
        count += 1
    }

    private mutating func place(_ slot: Slot) {
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: slot.hash) & mask
        while slots[index].keyStart >= 0 { index = (index + 1) & mask }
        slots[index] = slot
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(), count: old.count * 2)
        for slot in old where slot.keyStart >= 0 { place(slot) }
    }
}
