import CDogeKernels

/// Hints to the operating system about how memory is used. They never change a value.
public enum MemoryAdvice {
    /// Backs the 2 MiB pages spanning `buffer` with huge pages where the OS allows it (Linux).
    /// Worth it for weights read once per token: a decode step streams them all, and 4 KiB
    /// pages cost a TLB miss and a prefetcher restart every 4 KiB. Returns the pages collapsed.
    @discardableResult
    public static func preferHugePages(_ buffer: UnsafeRawBufferPointer) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        return Int(dk_prefer_huge_pages(base, buffer.count))
    }
}
