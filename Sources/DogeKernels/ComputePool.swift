import CDogeKernels

/// A persistent pool of spinning worker threads for splitting one kernel call across cores.
///
/// Dispatch costs well under a microsecond while the workers spin (Dispatch and condition
/// variables cost 4–150 µs on a VM), so even decode-sized GEMVs can be split. Workers park after
/// `spinMicroseconds` without work, so an idle process does not burn a core. Parts are claimed
/// by whichever thread is free, the caller included, so a preempted worker never stalls a call
/// (its parts run on the caller). Calls made while the pool is busy (from another thread, or
/// nested inside a job) run all their parts serially on the caller, so the pool is safe to share.
/// Pools live for the whole process: their threads are never joined.
public final class ComputePool: @unchecked Sendable {
    let raw: OpaquePointer

    /// Threads including the caller.
    public var threads: Int { Int(dk_pool_size(raw)) }

    /// The process-wide pool with `DOGE_THREADS` threads (default: the number of cores).
    public static let shared = ComputePool(threads: ProcessEnvironment.threadCount)

    public init(threads: Int, spinMicroseconds: Int = 1000) {
        raw = dk_pool_create(Int32(max(1, min(threads, 255))), Int32(spinMicroseconds))
    }

    /// Runs the C job `fn(context, part, parts)` for part in 0..<parts and waits for all.
    public func run(parts: Int, _ fn: dk_job_fn, context: UnsafeMutableRawPointer?) {
        dk_pool_run(raw, fn, context, Int32(parts))
    }

    /// Runs `body(part)` for part in 0..<parts on the pool's threads and waits for all.
    public func parallel(parts: Int, _ body: (Int) -> Void) {
        if parts <= 1 { if parts == 1 { body(0) }; return }
        withoutActuallyEscaping(body) { escapable in
            var job = escapable
            withUnsafeMutablePointer(to: &job) { ptr in
                dk_pool_run(raw, { ctx, part, _ in
                    ctx!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(part))
                }, ptr, Int32(parts))
            }
        }
    }

    /// Runs `body` over `rows` split into one contiguous range per thread, or over all rows on
    /// the caller when there are fewer than `minimumPerPart` rows per thread. Element-wise work
    /// between GEMMs goes through here so the other threads do not spin idle during it.
    public func parallelRows(_ rows: Int, minimumPerPart: Int = 16, _ body: (Range<Int>) -> Void) {
        let parts = min(threads, rows / max(minimumPerPart, 1))
        if parts <= 1 { if rows > 0 { body(0..<rows) }; return }
        parallel(parts: parts) { p in body((rows * p / parts)..<(rows * (p + 1) / parts)) }
    }

    /// Workers currently parked (diagnostics and tests).
    public var parkedWorkers: Int { Int(dk_pool_sleepers(raw)) }
}
