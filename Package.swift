// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// The five services and the gateway: each a library (what the tests import) and a thin executable.
/// The same rows as Shared/Catalogue/services.tsv, in its order (CatalogueTests holds them to it).
let services: [(library: String, executable: String, folder: String)] = [
    ("ContactsService", "contacts", "Contacts"),
    ("SalesService", "sales", "Sales"),
    ("SupportService", "support", "Support"),
    ("MarketingService", "marketing", "Marketing"),
    ("ERPBridgeService", "erp-bridge", "ERPBridge"),
    ("GatewayService", "gateway", "Gateway"),
]

let hummingbird: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird")
let postgres: Target.Dependency = .product(name: "PostgresNIO", package: "postgres-nio")
let lifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let metrics: Target.Dependency = .product(name: "Metrics", package: "swift-metrics")
let httpTypes: Target.Dependency = .product(name: "HTTPTypes", package: "swift-http-types")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

var targets: [Target] = [
    // Embeds a target's SQL/ folder (EmbeddedSQL.files: migrations and functions) and Web/ folder (EmbeddedWeb.files:
    // templates and assets) in its code.
    .executableTarget(name: "EmbedFilesTool", path: "Shared/Plugins/EmbedFilesTool"),
    .plugin(name: "EmbedFiles", capability: .buildTool(), dependencies: ["EmbedFilesTool"], path: "Shared/Plugins/EmbedFiles"),
    .target(
        name: "CAMQP",
        path: "Shared/CAMQP",
        linkerSettings: [.linkedLibrary("rabbitmq")]
    ),
    .target(name: "AMQP", dependencies: ["CAMQP", logging], path: "Shared/AMQP", swiftSettings: swiftSettings),
    .target(
        name: "Storage",
        dependencies: [postgres, logging, .product(name: "_ConnectionPoolModule", package: "postgres-nio")],
        path: "Shared/Storage", swiftSettings: swiftSettings
    ),
    .target(name: "Contracts", path: "Shared/Contracts", swiftSettings: swiftSettings),
    .target(
        name: "Catalogue", path: "Shared/Catalogue", resources: [.embedInCode("services.tsv")], swiftSettings: swiftSettings
    ),
    // The API contracts' source files: read by `switchboard openapi bundle` and the contract tests.
    .target(
        name: "APISources", dependencies: ["Catalogue", .product(name: "Yams", package: "Yams")], path: "Shared/APISources",
        swiftSettings: swiftSettings
    ),
    .target(
        name: "Messaging",
        dependencies: ["AMQP", "Storage", postgres, lifecycle, logging, metrics],
        path: "Shared/Messaging",
        swiftSettings: swiftSettings,
        plugins: ["EmbedFiles"]
    ),
    .target(
        name: "ServiceKit",
        dependencies: [
            "AMQP", "Messaging", "Storage", "Catalogue", hummingbird, httpTypes, postgres, lifecycle, logging, metrics,
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Configuration", package: "swift-configuration"),
        ],
        path: "Shared/ServiceKit",
        swiftSettings: swiftSettings,
        plugins: ["EmbedFiles"]
    ),
    // A service's copy of the staff's users (from identity.user.* events), for owners that must be active users.
    .target(
        name: "StaffReplica", dependencies: ["Contracts", "Messaging", "ServiceKit", "Storage", postgres, logging], path: "Shared/StaffReplica",
        swiftSettings: swiftSettings, plugins: ["EmbedFiles"]
    ),
    .target(
        name: "SwitchboardCommand",
        dependencies: [
            "AMQP", "Messaging", "Storage", "ServiceKit", "Catalogue", "APISources", postgres, logging, argumentParser,
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOFoundationCompat", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
        ]
            + services.map { .target(name: $0.library) },
        path: "Services/Switchboard/Library",
        swiftSettings: swiftSettings
    ),
    .executableTarget(
        name: "SwitchboardMain",
        dependencies: ["SwitchboardCommand", argumentParser],
        path: "Services/Switchboard/Executable",
        swiftSettings: swiftSettings
    ),
    .target(
        name: "TestSupport",
        dependencies: [
            "AMQP", "Messaging", "Storage", "ServiceKit", "Catalogue", "APISources", postgres, logging, hummingbird, httpTypes,
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
        ],
        path: "Tests/TestSupport",
        swiftSettings: swiftSettings
    ),
    .executableTarget(
        name: "MessagingProbe",
        dependencies: ["TestSupport", "AMQP", "Messaging", "Storage", "ServiceKit", postgres, lifecycle, logging],
        path: "Tests/MessagingProbe",
        swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "EndToEndTests", dependencies: ["TestSupport", "AMQP", "Messaging", "Contracts", postgres], path: "Tests/EndToEndTests",
        swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "GatewayTests", dependencies: ["TestSupport", "APISources", "AMQP", "Messaging", "Contracts", "GatewayService", "ContactsService", "SalesService", "ServiceKit", "Storage", hummingbird, httpTypes, postgres],
        path: "Tests/GatewayTests", swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "ContactsTests",
        dependencies: ["TestSupport", "ContactsService", "Contracts", "Messaging", "Storage", "ServiceKit", hummingbird, postgres],
        path: "Tests/ContactsTests", swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "ContractsTests",
        dependencies: ["Contracts", "APISources", "Catalogue", "TestSupport", "Messaging", "ContactsService", "ERPBridgeService"],
        path: "Tests/ContractsTests", swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "SalesTests",
        dependencies: ["TestSupport", "SalesService", "Contracts", "Messaging", "Storage", "ServiceKit", hummingbird, postgres],
        path: "Tests/SalesTests", swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "ERPBridgeTests",
        dependencies: ["TestSupport", "ERPBridgeService", "AMQP", "Contracts", "Messaging", "Storage", "ServiceKit", postgres],
        path: "Tests/ERPBridgeTests", swiftSettings: swiftSettings
    ),
    .testTarget(name: "SupportTests", dependencies: ["SupportService"], path: "Tests/SupportTests", swiftSettings: swiftSettings),
    .testTarget(name: "CatalogueTests", dependencies: ["Catalogue"], path: "Tests/CatalogueTests", swiftSettings: swiftSettings),
    .testTarget(name: "AMQPTests", dependencies: ["AMQP", "ServiceKit", "TestSupport"], path: "Tests/AMQPTests", swiftSettings: swiftSettings),
    .testTarget(
        name: "StorageTests", dependencies: ["Storage", "ServiceKit", "TestSupport", postgres], path: "Tests/StorageTests",
        swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "MessagingTests",
        dependencies: ["Messaging", "AMQP", "Storage", "ServiceKit", "TestSupport", postgres, lifecycle, logging],
        path: "Tests/MessagingTests",
        swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "ServiceKitTests",
        dependencies: [
            "ServiceKit", "TestSupport", "Messaging", "AMQP", "Storage", postgres, hummingbird,
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ],
        path: "Tests/ServiceKitTests",
        swiftSettings: swiftSettings
    ),
]

/// What a service library needs beyond the common set.
let serviceExtras: [String: (dependencies: [Target.Dependency], resources: [Resource])] = [
    "ContactsService": ([lifecycle, "StaffReplica"], []),
    "SalesService": ([lifecycle, "StaffReplica"], []),
    "ERPBridgeService": ([.product(name: "Crypto", package: "swift-crypto"), "AMQP"], []),
    "GatewayService": (
        [
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            .product(name: "Mustache", package: "swift-mustache"),
            .product(name: "NIOPosix", package: "swift-nio"),
            lifecycle,
        ],
        [.embedInCode("openapi.json")]
    ),
]

var products: [Product] = [.executable(name: "switchboard", targets: ["SwitchboardMain"])]
for service in services {
    let extras = serviceExtras[service.library]
    targets.append(
        .target(
            name: service.library,
            dependencies: ["ServiceKit", "Messaging", "Storage", "Contracts", "Catalogue", hummingbird, httpTypes, postgres, logging]
                + (extras?.dependencies ?? []),
            path: "Services/\(service.folder)/Library",
            resources: extras?.resources,
            swiftSettings: swiftSettings,
            plugins: ["EmbedFiles"]
        )
    )
    targets.append(
        .executableTarget(
            name: "\(service.library)Main",
            dependencies: [.target(name: service.library), "ServiceKit"],
            path: "Services/\(service.folder)/Executable",
            swiftSettings: swiftSettings
        )
    )
    products.append(.executable(name: service.executable, targets: ["\(service.library)Main"]))
}

let package = Package(
    name: "Switchboard",
    platforms: [.macOS(.v15)],
    products: products,
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: targets
)
