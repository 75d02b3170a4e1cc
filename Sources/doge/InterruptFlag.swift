#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Ctrl-C (SIGINT, and SIGTERM) as a flag: the current generation stops at the next token, a
/// training run after the current step, instead of the program dying. A second signal while the
/// flag is still set exits at once (status 130).
final class InterruptFlag: Sendable {
    private static let shared = InterruptFlag()
    private let flag = Atomic<Bool>(false)
    /// Printed (async-signal-safely) on the first signal, e.g. what will happen now.
    nonisolated(unsafe) private static var notice: StaticString?

    var isSet: Bool { flag.load(ordering: .relaxed) }
    func clear() { flag.store(false, ordering: .relaxed) }

    static func install(notice: StaticString? = nil) -> InterruptFlag {
        Self.notice = notice
        let handler: @convention(c) (Int32) -> Void = { _ in
            if InterruptFlag.shared.flag.exchange(true, ordering: .relaxed) { _exit(130) }
            if let notice = InterruptFlag.notice { _ = write(2, notice.utf8Start, notice.utf8CodeUnitCount) }
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        return shared
    }
}
