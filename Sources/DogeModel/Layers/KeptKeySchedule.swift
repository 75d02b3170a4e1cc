/// Which slots of a `KeyStore` each query of one forward call keeps, as a stream of changes:
/// query t keeps the slots added minus the slots removed by the events of queries 0...t.
///
/// A key's dt does not depend on the query (doge-architecture.md), so the keep_window_size keys
/// that query t + 1 keeps are those of query t, plus the key that became visible, minus the
/// weakest when that makes one too many (and, with a sliding window, minus the key that left it,
/// replaced by the strongest visible key not kept). Building the schedule takes O(n log W) time
/// and O(n + T) memory for n slots, T queries and window W, instead of a [T, n] mask.
struct KeptKeySchedule {
    /// Events of query t: `events[stepStart[t]..<stepStart[t + 1]]`; slot + 1 when the slot
    /// joins the kept set, −(slot + 1) when it leaves.
    let stepStart: [Int]
    let events: [Int32]

    /// Whether every event is a join and slot s is the (s + 1)-th to join.
    let joinsInSlotOrder: Bool

    var queries: Int { stepStart.count - 1 }

    /// Query t (absolute position past + t) sees the slots whose cache index is at most its
    /// position and, with a sliding window, inside it; when more than `limit` are visible it keeps
    /// the `limit` with the largest dt, the earlier key winning ties (the rule used everywhere).
    init(store: KeyStore, queries T: Int, past: Int, limit: Int, slidingWindow: Int?) {
        let n = store.count
        var stepStart = [Int](repeating: 0, count: T + 1)
        var events: [Int32] = []
        events.reserveCapacity(min(n, limit) + 4 * T)
        store.dt.withUnsafeBufferPointer { dtBuffer in
            store.index.withUnsafeBufferPointer { indexBuffer in
                let dt = dtBuffer.baseAddress!, index = indexBuffer.baseAddress!
                // Slots in the order their keys become visible (new keys arrive in order, but a
                // bounded cache's earlier slots are in no particular order).
                let byIndex = (0..<n).sorted { index[$0] < index[$1] }.map { Int32($0) }
                let stronger = StrengthOrder(dt: dt, index: index)
                var kept = SlotHeap(slots: n, capacity: min(n, limit), topIsWeakest: true)
                var reserve = SlotHeap(slots: slidingWindow == nil ? 0 : n, capacity: 0, topIsWeakest: false)
                var entering = 0, leaving = 0
                for t in 0..<T {
                    let position = past + t
                    if let window = slidingWindow {
                        // Keys that fell out of the window; a kept one hands its place to the strongest reserve key.
                        while leaving < entering, index[Int(byIndex[leaving])] <= position - window {
                            let s = byIndex[leaving]
                            leaving += 1
                            if kept.contains(s) {
                                kept.remove(s, stronger)
                                events.append(-(s + 1))
                                if let r = reserve.popTop(stronger) { kept.push(r, stronger); events.append(r + 1) }
                            } else if reserve.contains(s) {
                                reserve.remove(s, stronger)
                            }
                        }
                    }
                    while entering < n, index[Int(byIndex[entering])] <= position {
                        let s = byIndex[entering]
                        entering += 1
                        if let window = slidingWindow, index[Int(s)] <= position - window {
                            leaving = max(leaving, entering)   // already outside the window (an earlier call's key)
                            continue
                        }
                        if kept.count < limit {
                            kept.push(s, stronger); events.append(s + 1)
                        } else if limit > 0, stronger(s, kept.top) {
                            let weakest = kept.popTop(stronger)!
                            events.append(-(weakest + 1))
                            if slidingWindow != nil { reserve.push(weakest, stronger) }
                            kept.push(s, stronger); events.append(s + 1)
                        } else if slidingWindow != nil {
                            reserve.push(s, stronger)
                        }
                    }
                    stepStart[t + 1] = events.count
                }
            }
        }
        self.stepStart = stepStart
        self.events = events
        joinsInSlotOrder = events.indices.allSatisfy { events[$0] == Int32($0 + 1) }
    }
}

/// "a is kept before b": larger dt, and the earlier key on equal dt.
struct StrengthOrder {
    let dt: UnsafePointer<Float>
    let index: UnsafePointer<Int>

    @inline(__always)
    func callAsFunction(_ a: Int32, _ b: Int32) -> Bool {
        let (x, y) = (dt[Int(a)], dt[Int(b)])
        return x != y ? x > y : index[Int(a)] < index[Int(b)]
    }
}

/// A binary heap of slot numbers that can also remove any member: the kept set (top = weakest)
/// or the reserve of visible keys not kept (top = strongest).
struct SlotHeap {
    private var heap: [Int32] = []
    /// Position of each slot in `heap`, −1 when absent.
    private var position: [Int32]
    let topIsWeakest: Bool

    init(slots: Int, capacity: Int, topIsWeakest: Bool) {
        position = [Int32](repeating: -1, count: slots)
        heap.reserveCapacity(capacity)
        self.topIsWeakest = topIsWeakest
    }

    var count: Int { heap.count }
    var top: Int32 { heap[0] }
    func contains(_ s: Int32) -> Bool { position[Int(s)] >= 0 }

    /// Whether a belongs above b.
    @inline(__always)
    private func above(_ a: Int32, _ b: Int32, _ stronger: StrengthOrder) -> Bool {
        topIsWeakest ? stronger(b, a) : stronger(a, b)
    }

    mutating func push(_ s: Int32, _ stronger: StrengthOrder) {
        heap.append(s)
        position[Int(s)] = Int32(heap.count - 1)
        siftUp(heap.count - 1, stronger)
    }

    mutating func popTop(_ stronger: StrengthOrder) -> Int32? {
        guard let first = heap.first else { return nil }
        remove(first, stronger)
        return first
    }

    mutating func remove(_ s: Int32, _ stronger: StrengthOrder) {
        let i = Int(position[Int(s)])
        let last = heap.removeLast()
        position[Int(s)] = -1
        guard i < heap.count else { return }
        heap[i] = last
        position[Int(last)] = Int32(i)
        siftUp(i, stronger)
        siftDown(Int(position[Int(last)]), stronger)
    }

    private mutating func siftUp(_ start: Int, _ stronger: StrengthOrder) {
        var i = start
        let s = heap[i]
        while i > 0 {
            let parent = (i - 1) / 2
            guard above(s, heap[parent], stronger) else { break }
            heap[i] = heap[parent]; position[Int(heap[i])] = Int32(i)
            i = parent
        }
        heap[i] = s; position[Int(s)] = Int32(i)
    }

    private mutating func siftDown(_ start: Int, _ stronger: StrengthOrder) {
        var i = start
        let s = heap[i]
        while true {
            var child = 2 * i + 1
            guard child < heap.count else { break }
            if child + 1 < heap.count, above(heap[child + 1], heap[child], stronger) { child += 1 }
            guard above(heap[child], s, stronger) else { break }
            heap[i] = heap[child]; position[Int(heap[i])] = Int32(i)
            i = child
        }
        heap[i] = s; position[Int(s)] = Int32(i)
    }
}
