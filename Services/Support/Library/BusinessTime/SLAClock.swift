import Foundation

/// One SLA target of a ticket (first response, or resolution) as a ledger: what happened to the
/// clock and when. Everything a ticket shows (business time consumed, the due instant, met or
/// breached) is computed from the ledger and the team's calendar, never kept beside it, so a
/// pause, a changed target or a late correction cannot leave a stale due time behind.
public struct SLAClock: Sendable, Equatable {
    public enum Entry: Sendable, Equatable {
        /// The clock starts with a target in business minutes.
        case started(at: Date, targetMinutes: Int)
        /// The ticket waits on someone else (the customer, by default): business time stops counting.
        case paused(at: Date)
        case resumed(at: Date)
        /// A new target from this instant (the priority changed, a contract's policy applies): the
        /// time consumed so far stays consumed.
        case targetChanged(at: Date, targetMinutes: Int)
        /// The target is reached (the first public reply, the resolution).
        case stopped(at: Date)

        var at: Date {
            switch self {
            case let .started(at, _), let .paused(at), let .resumed(at), let .targetChanged(at, _), let .stopped(at): at
            }
        }
    }

    public var entries: [Entry]

    public init(_ entries: [Entry] = []) {
        self.entries = entries
    }

    /// The clock at an instant.
    public struct Reading: Sendable, Equatable {
        public var targetMinutes: Int
        public var consumedSeconds: Double
        /// When the target runs out if the clock keeps running; nil while paused or stopped, and
        /// when the calendar has no working time left.
        public var due: Date?
        public var running: Bool
        /// Set once the clock has stopped: within the target or not.
        public var met: Bool?
        /// The consumed time is past the target (whether stopped or not).
        public var breached: Bool { consumedSeconds > Double(targetMinutes) * 60 }
    }

    /// The clock as it stands at `now`, by `calendar`: entries after `now` are not yet counted.
    public func reading(at now: Date, calendar: BusinessCalendar) -> Reading? {
        var target: Int?
        var consumed = 0.0
        var runningSince: Date?
        var stopped = false
        for entry in entries.sorted(by: { $0.at < $1.at }) where entry.at <= now {
            switch entry {
            case let .started(at, minutes):
                target = minutes
                runningSince = runningSince ?? at
            case let .targetChanged(_, minutes):
                target = minutes
            case let .paused(at):
                if let since = runningSince { consumed += calendar.seconds(from: since, to: at) }
                runningSince = nil
            case let .resumed(at):
                if target != nil, !stopped, runningSince == nil { runningSince = at }
            case let .stopped(at):
                if let since = runningSince { consumed += calendar.seconds(from: since, to: at) }
                runningSince = nil
                stopped = true
            }
        }
        guard let target else { return nil }
        consumed = (consumed * 1_000).rounded() / 1_000
        let limit = Double(target) * 60
        guard let since = runningSince else {
            return Reading(targetMinutes: target, consumedSeconds: consumed, due: nil, running: false, met: stopped ? consumed <= limit : nil)
        }
        let total = ((consumed + calendar.seconds(from: since, to: now)) * 1_000).rounded() / 1_000
        // The due instant counts from when the clock last began to run: the same for every `now`.
        let due = calendar.due(from: since, adding: limit - consumed)
        return Reading(targetMinutes: target, consumedSeconds: total, due: due, running: true, met: nil)
    }
}
