import Testing
import CDogeKernels
import DogeKernels
#if canImport(Glibc)
import Glibc
#endif

@Suite("ComputePool")
struct PoolTests {
    @Test func everyPartRunsOnce() {
        let pool = ComputePool(threads: 2)
        for parts in [1, 2, 3, 5] {
            for _ in 0..<2000 {
                var hits = [Int](repeating: 0, count: parts)
                hits.withUnsafeMutableBufferPointer { h in
                    pool.parallel(parts: parts) { h[$0] += 1 }  // distinct elements per part
                }
                #expect(hits == [Int](repeating: 1, count: parts))
            }
        }
    }

    @Test func parallelRowsCoversEveryRowOnceInContiguousRanges() {
        for threads in [1, 2, 3] {
            let pool = ComputePool(threads: threads)
            for rows in [0, 1, 15, 16, 31, 32, 33, 100, 513] {
                for minimum in [1, 16, 64] {
                    var hits = [Int](repeating: 0, count: rows)
                    var calls = [Int](repeating: 0, count: rows + 1)   // indexed by each range's first row
                    hits.withUnsafeMutableBufferPointer { h in
                        calls.withUnsafeMutableBufferPointer { c in
                            pool.parallelRows(rows, minimumPerPart: minimum) { range in
                                for i in range { h[i] += 1 }
                                c[range.lowerBound] += 1
                            }
                        }
                    }
                    let label = "rows \(rows), minimum \(minimum), threads \(threads)"
                    #expect(hits == [Int](repeating: 1, count: rows), "\(label)")
                    let expectedCalls = rows == 0 ? 0 : max(1, min(threads, rows / minimum))
                    #expect(calls.reduce(0, +) == expectedCalls, "\(label)")
                }
            }
        }
    }

    @Test func nestedAndConcurrentCallsRunSerially() async {
        let pool = ComputePool(threads: 2)
        await withTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var total = 0
                    for _ in 0..<500 {
                        var sums = [0, 0]
                        sums.withUnsafeMutableBufferPointer { s in
                            pool.parallel(parts: 2) { outer in
                                var inner = [0, 0]
                                inner.withUnsafeMutableBufferPointer { ib in pool.parallel(parts: 2) { ib[$0] = 1 } }
                                s[outer] = inner[0] + inner[1]
                            }
                        }
                        total += sums[0] + sums[1]
                    }
                    return total
                }
            }
            for await total in group { #expect(total == 2000) }
        }
    }

    @Test func workersParkWhenIdleAndWakeForWork() {
        let pool = ComputePool(threads: 2, spinMicroseconds: 200)
        var parked = false
        for _ in 0..<200 where !parked {  // up to 1 s on a loaded machine
            usleep(5000)
            parked = pool.parkedWorkers == pool.threads - 1
        }
        #expect(parked)
        var hits = [0, 0]
        hits.withUnsafeMutableBufferPointer { h in pool.parallel(parts: 2) { h[$0] += 1 } }
        #expect(hits == [1, 1])
    }

    @Test func threadCountComesFromEnvironment() {
        #expect(ProcessEnvironment.threadCount >= 1)
        #expect(ComputePool.shared.threads == ProcessEnvironment.threadCount)
    }
}
