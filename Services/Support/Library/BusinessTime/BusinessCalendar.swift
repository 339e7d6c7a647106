import Foundation

/// A day in a calendar's own zone, as people write it: holidays and effective dates are days, not
/// instants, so that 25 December is the whole of that day wherever the team is.
public struct LocalDay: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(_ year: Int, _ month: Int, _ day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// `2026-12-25`; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 3, let year = parts[0], let month = parts[1], let day = parts[2], (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        self.init(year, month, day)
    }

    public var description: String { String(format: "%04d-%02d-%02d", year, month, day) }

    public static func < (lhs: LocalDay, rhs: LocalDay) -> Bool { (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day) }
}

/// Working hours of one day: from `start` to `end`, in minutes after the day's midnight on the
/// wall clock (`end` may be 1440, the next midnight).
public struct WorkInterval: Hashable, Sendable {
    public var start: Int
    public var end: Int

    public init(_ start: Int, _ end: Int) {
        self.start = start
        self.end = end
    }

    /// `"08:00"`, `"17:30"`, `"24:00"` to minutes.
    public init?(from: String, to: String) {
        guard let start = Self.minutes(from), let end = Self.minutes(to), start < end else { return nil }
        self.init(start, end)
    }

    static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":").map { Int($0) }
        guard parts.count == 2, let hours = parts[0], let minutes = parts[1], (0...59).contains(minutes), (0...24).contains(hours),
            hours < 24 || minutes == 0
        else { return nil }
        return hours * 60 + minutes
    }
}

/// What a team's working time is from a day on: the hours of each weekday and the holidays.
public struct WorkWeek: Hashable, Sendable {
    /// Keyed by ISO weekday, 1 Monday to 7 Sunday; a day without intervals is not worked.
    public var days: [Int: [WorkInterval]]
    public var holidays: Set<LocalDay>

    public init(days: [Int: [WorkInterval]], holidays: Set<LocalDay> = []) {
        self.days = days.mapValues { $0.sorted { $0.start < $1.start } }
        self.holidays = holidays
    }

    /// Every hour of every day.
    public static let always = WorkWeek(days: Dictionary(uniqueKeysWithValues: (1...7).map { ($0, [WorkInterval(0, 1_440)]) }))

    var isEverWorked: Bool { days.values.contains { !$0.isEmpty } }
}

/// Business time: a team's work weeks in its time zone, each in force from a day on, so that an
/// edited calendar changes what comes after its day and never what came before (the statistics of
/// a ticket closed last month stay as they were). Durations are real seconds inside working
/// hours: a working interval across a change to summer time is an hour shorter, as the clock on
/// the wall says.
public struct BusinessCalendar: Sendable {
    public let timeZone: TimeZone
    /// Sorted by the day each takes effect; the first applies to every day before it too.
    public let versions: [(from: LocalDay, week: WorkWeek)]
    private let calendar: Calendar

    public init(timeZone: TimeZone, versions: [(from: LocalDay, week: WorkWeek)]) {
        precondition(!versions.isEmpty, "a calendar has a week")
        self.timeZone = timeZone
        self.versions = versions.sorted { $0.from < $1.from }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    public init(timeZone: TimeZone, week: WorkWeek) {
        self.init(timeZone: timeZone, versions: [(LocalDay(1970, 1, 1), week)])
    }

    /// How far a search for working time goes before it gives up: a calendar with no working
    /// day left in ten years has none.
    static let horizonDays = 3_660

    /// The instant at which `seconds` of business time from `start` are used up: at the end of
    /// the working minute that uses the last of them, never in the gap after it. Nil when the
    /// calendar has no working time left.
    public func due(from start: Date, adding seconds: Double) -> Date? {
        var left = seconds
        if left <= 0 { return start }
        for (from, to) in workingSpans(from: start) {
            let span = to.timeIntervalSince(from)
            if span >= left { return from.addingTimeInterval(left) }
            left -= span
        }
        return nil
    }

    /// Business seconds between two instants (zero when `end` is not after `start`), to the
    /// millisecond: instants are floating-point, and a sum of spans must not read 7,199.9999.
    public func seconds(from start: Date, to end: Date) -> Double {
        guard end > start else { return 0 }
        var total = 0.0
        for (from, to) in workingSpans(from: start) {
            if from >= end { break }
            total += min(to, end).timeIntervalSince(from)
            if to >= end { break }
        }
        return (total * 1_000).rounded() / 1_000
    }

    /// The working spans from `start` on, in order, as instants, each cut to begin no earlier than `start`.
    func workingSpans(from start: Date) -> some Sequence<(Date, Date)> {
        var day = calendar.startOfDay(for: start)
        var pending: [(Date, Date)] = []
        var searched = 0
        let anyWork = versions.contains { $0.week.isEverWorked }
        return AnySequence {
            AnyIterator {
                while pending.isEmpty {
                    guard anyWork, searched < Self.horizonDays else { return nil }
                    pending = spans(on: day).compactMap { from, to in
                        let from = max(from, start)
                        return from < to ? (from, to) : nil
                    }
                    day = calendar.date(byAdding: .day, value: 1, to: day).map(calendar.startOfDay) ?? day.addingTimeInterval(86_400)
                    searched += 1
                }
                return pending.removeFirst()
            }
        }
    }

    /// The working spans of the day beginning at `midnight`, by the week in force that day.
    func spans(on midnight: Date) -> [(Date, Date)] {
        let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: midnight)
        guard let year = parts.year, let month = parts.month, let dayOfMonth = parts.day, let weekday = parts.weekday else { return [] }
        let day = LocalDay(year, month, dayOfMonth)
        let week = self.week(on: day)
        guard !week.holidays.contains(day) else { return [] }
        // Foundation counts Sunday as 1; ISO counts Monday as 1.
        let iso = weekday == 1 ? 7 : weekday - 1
        return (week.days[iso] ?? []).compactMap { interval in
            guard let from = instant(day, minute: interval.start), let to = instant(day, minute: interval.end), from < to else { return nil }
            return (from, to)
        }
    }

    func week(on day: LocalDay) -> WorkWeek {
        versions.last { $0.from <= day }?.week ?? versions[0].week
    }

    /// The instant a wall-clock minute of a day stands for. A minute the change to summer time
    /// skips is the first one after the gap; a minute the change back repeats is its first
    /// occurrence. 24:00 is the next day's midnight.
    func instant(_ day: LocalDay, minute: Int) -> Date? {
        var parts = DateComponents(year: day.year, month: day.month, day: day.day, hour: minute / 60, minute: minute % 60)
        if minute == 1_440 {
            guard let midnight = calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day)) else { return nil }
            return calendar.date(byAdding: .day, value: 1, to: midnight).map(calendar.startOfDay)
        }
        parts.timeZone = timeZone
        guard let date = calendar.date(from: parts) else { return nil }
        // Foundation moves a skipped minute on by the change (02:30 becomes 03:30); the clock on the
        // wall reads 03:00 right after 01:59, and that is when hours "from 02:30" begin.
        let read = calendar.dateComponents([.hour, .minute], from: date)
        if read.hour != parts.hour || read.minute != parts.minute,
            let change = timeZone.nextDaylightSavingTimeTransition(after: date.addingTimeInterval(-3 * 3_600)), change <= date
        {
            return change
        }
        return date
    }
}
