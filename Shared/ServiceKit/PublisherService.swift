import AMQP
import ServiceLifecycle

/// Keeps the publisher open for the services that use it and closes it after they stopped
/// (a ServiceGroup shuts down in reverse order, so list this before the relay and the consumer).
public struct PublisherService: Service {
    let publisher: AMQPPublisher

    public init(_ publisher: AMQPPublisher) {
        self.publisher = publisher
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await publisher.close()
    }
}
