import AMQP
import ArgumentParser
import Foundation
import Messaging
import ServiceKit

struct DeadLettersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters", abstract: "Inspect and replay a service's dead-lettered events.",
        subcommands: [List.self, Replay.self]
    )

    static func broker() -> AMQPConfiguration {
        SwitchboardEnvironment().broker(defaultUser: "switchboard_admin", connectionName: "switchboard operator")
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List `<service>.dead` without removing anything.")

        @Argument var service: String
        @Option(help: "Show at most this many.") var limit = 100

        func run() async throws {
            let queue = CRMTopology.deadQueue(try SwitchboardCommand.service(service).name)
            let limit = limit
            // Unacked gets go back to the queue when the connection closes: listing removes nothing.
            let lines = try await AMQPOneShot.run(DeadLettersCommand.broker()) { channel in
                var lines: [String] = []
                while lines.count < limit, let delivery = try channel.get(queue: queue) {
                    lines.append(DeadLettersCommand.describe(delivery))
                }
                return lines
            }
            print(lines.isEmpty ? "\(queue) is empty" : lines.joined(separator: "\n"))
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send dead letters back to the queue they failed on, `<service>.events` or the service's intake "
                + "(`erp_bridge.inbound`), all or the one with --id."
        )

        @Argument var service: String
        @Option(help: "The message id (event id) of the one dead letter to replay.") var id: String?

        func run() async throws {
            let definition = try SwitchboardCommand.service(service)
            let dead = CRMTopology.deadQueue(definition.name)
            let events = CRMTopology.eventsQueue(definition.name)
            // A message an outside system published failed in the intake: it goes back there.
            let intakeExchanges = Set(definition.brokerExtras.readExchanges.map(\.exchange))
            let intake = definition.brokerExtras.queues.first
            let wanted = id?.lowercased()
            let (replayed, targets) = try await AMQPOneShot.run(DeadLettersCommand.broker()) { channel in
                var replayed = 0
                var targets = Set<String>()
                while let delivery = try channel.get(queue: dead) {
                    if let wanted, delivery.properties.messageId?.lowercased() != wanted { continue }
                    let origin = delivery.properties.headers["x-original-exchange"]?.stringValue ?? ""
                    let target = intakeExchanges.contains(origin) ? (intake ?? events) : events
                    targets.insert(target)
                    var properties = delivery.properties
                    for header in ["x-error", "x-failed-by", "x-failed-at", "x-death", "x-first-death-exchange",
                                   "x-first-death-queue", "x-first-death-reason", "x-delivery-count"] {
                        properties.headers[header] = nil
                    }
                    // Straight to the one service's queue, not to every subscriber of the event type.
                    try channel.publishConfirmed(
                        OutgoingMessage(exchange: "", routingKey: target, body: delivery.body, properties: properties)
                    )
                    try channel.ack(delivery)
                    replayed += 1
                    if wanted != nil { break }
                }
                return (replayed, targets)
            }
            if let id, replayed == 0 { throw ValidationError("no dead letter with id \(id) in \(dead)") }
            print("replayed \(replayed) message(s) from \(dead) to \(targets.isEmpty ? events : targets.sorted().joined(separator: " and "))")
        }
    }

    static func describe(_ delivery: Delivery) -> String {
        let headers = delivery.properties.headers
        let error = headers["x-error"]?.stringValue ?? headers["x-first-death-reason"]?.stringValue ?? "?"
        let failedBy = headers["x-failed-by"]?.stringValue ?? "broker"
        let key = headers["x-original-routing-key"]?.stringValue ?? delivery.routingKey
        let body = String(decoding: delivery.body.prefix(200), as: UTF8.self)
        return "\(delivery.properties.messageId ?? "-")\t\(key)\tfailed by \(failedBy): \(error)\n\t\(body)"
    }
}
