import Dispatch
import Foundation

/// Ends the process a fixed time after SIGTERM or SIGINT, whatever its tasks are doing. The
/// graceful shutdown normally finishes well before; this is for the call nothing can cancel (a
/// query on a connection that will never answer), so that an operator's SIGTERM always works.
/// It listens through Dispatch, beside ServiceLifecycle's own handler, not through a Swift task
/// that a wedged executor might never run.
enum ShutdownWatchdog {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    static func install(service: String, after bound: Duration) {
        let queue = DispatchQueue(label: "switchboard.shutdown-watchdog")
        for signalNumber in [SIGTERM, SIGINT] {
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler {
                queue.asyncAfter(deadline: .now() + .milliseconds(Int(bound.components.seconds * 1000))) {
                    FileHandle.standardError.write(Data(
                        "\(service): shutdown did not finish within \(bound.components.seconds) s of the signal; exiting\n".utf8
                    ))
                    _exit(1)
                }
            }
            source.resume()
            sources.append(source)
        }
    }
}
