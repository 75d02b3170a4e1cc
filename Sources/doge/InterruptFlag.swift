#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Ctrl-C as a flag: the current generation stops at the next token instead of the program dying.
/// A second Ctrl-C while nothing reads the flag exits as usual.
final class InterruptFlag: Sendable {
    private static let shared = InterruptFlag()
    private let flag = Atomic<Bool>(false)

    var isSet: Bool { flag.load(ordering: .relaxed) }
    func clear() { flag.store(false, ordering: .relaxed) }

    static func install() -> InterruptFlag {
        signal(SIGINT) { _ in
            if InterruptFlag.shared.flag.exchange(true, ordering: .relaxed) { _exit(130) }
        }
        return shared
    }
}
