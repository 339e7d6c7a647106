import Logging
import Metrics
import Prometheus

/// Process-wide logging and metrics, set up once by the composition root (never by a library).
public enum Observability {
    /// Logs to stderr with the service name as label, at `SWITCHBOARD_LOG_LEVEL` (default info).
    public static func bootstrapLogging(service: String, environment: SwitchboardEnvironment) -> Logger {
        let level = Logger.Level(rawValue: environment.string("log.level", default: "info")) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: service)
        logger.logLevel = level
        return logger
    }

    /// Installs a Prometheus registry as the metrics backend and returns it for `/metrics`.
    public static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }
}
