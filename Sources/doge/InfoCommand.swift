import ArgumentParser
import DogeKernels

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Print the compute backend in use (BLAS library or built-in kernels) and the machine's cores."
    )

    func run() throws {
        print(ComputeBackend.describe())
    }
}
