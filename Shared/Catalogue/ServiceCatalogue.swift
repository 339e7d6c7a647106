/// The suite's services, read from `services.tsv` beside this file: the one list that the gateway's
/// upstreams, the operator's command, the service runner and the tests take theirs from, and that
/// `compose/local.sh` reads itself. Package.swift and compose.yaml keep their own copies, which
/// `CatalogueTests` holds to it.
public struct CatalogueEntry: Sendable, Hashable {
    public enum Role: String, Sendable {
        /// The public API.
        case gateway
        /// The gateway passes public calls to it.
        case routed
        /// It answers only the gateway's internal calls, or none yet.
        case `internal`
    }

    /// Its schema, database role and broker user.
    public var name: String
    /// Its product in Package.swift, and its service in compose.yaml.
    public var executable: String
    /// `Services/<folder>`.
    public var folder: String
    /// Its default HTTP port.
    public var port: Int
    public var role: Role

    /// The library target under `Services/<folder>/Library`.
    public var library: String { "\(folder)Service" }
    /// The stem of its environment variables (`SWITCHBOARD_<stem>_PORT`, `…_URL`, `…_PASSWORD`).
    public var variableStem: String { name.uppercased() }
}

public enum ServiceCatalogue {
    public static let all: [CatalogueEntry] = parse(String(decoding: PackageResources.services_tsv, as: UTF8.self))

    public static func entry(_ name: String) -> CatalogueEntry? {
        all.first { $0.name == name }
    }

    /// The services the gateway passes public calls to.
    public static var routed: [CatalogueEntry] { all.filter { $0.role == .routed } }

    static func parse(_ text: String) -> [CatalogueEntry] {
        text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#") else { return nil }
            let columns = line.split(separator: "\t").map(String.init)
            guard columns.count == 5, let port = Int(columns[3]), let role = CatalogueEntry.Role(rawValue: columns[4]) else {
                preconditionFailure("services.tsv: a row needs name, executable, folder, port and role, tab-separated: \(line)")
            }
            return CatalogueEntry(name: columns[0], executable: columns[1], folder: columns[2], port: port, role: role)
        }
    }
}
