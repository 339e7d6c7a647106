import ArgumentParser
import Catalogue
import Foundation
import APISources

struct OpenAPICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openapi", abstract: "The API's description, made of the services' openapi.yaml sources.",
        subcommands: [Bundle.self]
    )

    struct Bundle: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write \(OpenAPIBundle.output): \(APISource.common) and every service's Services/<Folder>/openapi.yaml "
                + "as one document, the one the gateway serves and builds its route table from."
        )

        @Flag(help: "Write nothing; fail if the file is not what the sources make.") var check = false
        @Option(help: "The repository's root.") var root = "."

        func run() async throws {
            let root = URL(fileURLWithPath: root)
            let bundled = try OpenAPIBundle.make(APISource(root: root))
            let target = root.appendingPathComponent(OpenAPIBundle.output)
            if check {
                guard (try? Data(contentsOf: target)) == bundled else {
                    throw ValidationError("\(OpenAPIBundle.output) is stale: run `switchboard openapi bundle`")
                }
                print("\(OpenAPIBundle.output) is up to date")
            } else {
                try bundled.write(to: target)
                print("wrote \(OpenAPIBundle.output)")
            }
        }
    }
}

