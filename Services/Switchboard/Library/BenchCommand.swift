import ArgumentParser

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure this machine and print the figures.",
        subcommands: [MessagingBench.self, ContactsBench.self, SalesBench.self, WebBench.self, ERPBench.self]
    )
}
