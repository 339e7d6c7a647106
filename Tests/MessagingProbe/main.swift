import AMQP
import Foundation
import Messaging
import Storage
import TestSupport

// A relay in a process of its own, so a test can SIGKILL it mid-batch: `MessagingProbe relay SCHEMA`.
let arguments = CommandLine.arguments
guard arguments.count == 3, arguments[1] == "relay" else {
    FileHandle.standardError.write(Data("usage: MessagingProbe relay SCHEMA\n".utf8))
    exit(2)
}
let schema = try SchemaName(arguments[2])
let publisher = AMQPPublisher(
    configuration: TestEnvironment.broker("probe relay"), topology: CRMTopology.exchanges, logger: TestEnvironment.logger
)
try await TestEnvironment.withClient { client in
    var settings = OutboxRelay.Settings()
    settings.batchSize = 200
    let relay = OutboxRelay(
        schema: schema, producer: schema.rawValue, database: TestEnvironment.database, client: client,
        publisher: publisher, settings: settings, logger: TestEnvironment.logger
    )
    try await relay.run()
}
