import Foundation
import SupportService
import Testing

/// Business time and the SLA clock against due times worked out by hand, in Berlin (CET, UTC+1
/// in winter; CEST, UTC+2 from 28 March 2027 and until 25 October 2026).
@Suite("Business time")
struct BusinessTimeTests {
    static let berlin = TimeZone(identifier: "Europe/Berlin")!

    /// Monday to Friday 08:00–12:00 and 13:00–17:00; Christmas off.
    static let office = WorkWeek(
        days: Dictionary(uniqueKeysWithValues: (1...5).map { ($0, [WorkInterval(8 * 60, 12 * 60), WorkInterval(13 * 60, 17 * 60)]) }),
        holidays: [LocalDay(2026, 12, 25), LocalDay(2026, 12, 26)]
    )
    static let calendar = BusinessCalendar(timeZone: berlin, week: office)

    static func at(_ text: String) -> Date {
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime]
        return format.date(from: text)!
    }

    @Test("due times across a weekend, a holiday, a lunch break and the end of an interval", arguments: [
        // start, business minutes, due
        ("2026-12-04T16:00:00+01:00", 120, "2026-12-07T09:00:00+01:00"),  // Friday 60, Monday 60
        ("2026-12-24T16:30:00+01:00", 60, "2026-12-28T08:30:00+01:00"),  // Thursday 30; Friday a holiday; Monday 30
        ("2026-12-07T11:30:00+01:00", 60, "2026-12-07T13:30:00+01:00"),  // 30 before lunch, 30 after
        ("2026-12-07T09:00:00+01:00", 180, "2026-12-07T12:00:00+01:00"),  // ends with the morning, not after lunch
        ("2026-12-05T10:00:00+01:00", 30, "2026-12-07T08:30:00+01:00"),  // started on a Saturday
        ("2026-12-07T18:00:00+01:00", 0, "2026-12-07T18:00:00+01:00"),  // nothing to wait for
    ])
    func dueTimes(start: String, minutes: Int, due: String) {
        #expect(Self.calendar.due(from: Self.at(start), adding: Double(minutes) * 60) == Self.at(due))
    }

    @Test("a change of clocks counts real time: a night is an hour shorter in March and longer in October")
    func daylightSaving() {
        let always = BusinessCalendar(timeZone: Self.berlin, week: .always)
        #expect(always.due(from: Self.at("2027-03-27T23:00:00+01:00"), adding: 4 * 3_600) == Self.at("2027-03-28T04:00:00+02:00"))
        #expect(always.due(from: Self.at("2026-10-24T23:00:00+02:00"), adding: 4 * 3_600) == Self.at("2026-10-25T02:00:00+01:00"))
        #expect(always.seconds(from: Self.at("2027-03-28T00:00:00+01:00"), to: Self.at("2027-03-29T00:00:00+02:00")) == 23 * 3_600)
        // Office hours on either side of the change keep their wall-clock times.
        #expect(Self.calendar.due(from: Self.at("2027-03-26T16:00:00+01:00"), adding: 120 * 60) == Self.at("2027-03-29T09:00:00+02:00"))
    }

    @Test("business time between two instants skips nights, lunch, weekends and holidays")
    func businessSeconds() {
        #expect(Self.calendar.seconds(from: Self.at("2026-12-07T10:00:00+01:00"), to: Self.at("2026-12-07T14:00:00+01:00")) == 3 * 3_600)
        #expect(Self.calendar.seconds(from: Self.at("2026-12-24T17:00:00+01:00"), to: Self.at("2026-12-28T08:00:00+01:00")) == 0)
        #expect(Self.calendar.seconds(from: Self.at("2026-12-11T16:00:00+01:00"), to: Self.at("2026-12-14T09:30:00+01:00")) == 150 * 60)
        #expect(Self.calendar.seconds(from: Self.at("2026-12-14T09:30:00+01:00"), to: Self.at("2026-12-11T16:00:00+01:00")) == 0)
    }

    @Test("a pause of three business hours moves the due time by three business hours")
    func pause() {
        var clock = SLAClock([.started(at: Self.at("2026-12-07T09:00:00+01:00"), targetMinutes: 480)])
        #expect(clock.reading(at: Self.at("2026-12-07T09:30:00+01:00"), calendar: Self.calendar)?.due == Self.at("2026-12-08T09:00:00+01:00"))
        clock.entries += [.paused(at: Self.at("2026-12-07T10:00:00+01:00")), .resumed(at: Self.at("2026-12-07T14:00:00+01:00"))]
        let paused = clock.reading(at: Self.at("2026-12-07T11:00:00+01:00"), calendar: Self.calendar)
        #expect(paused?.running == false)
        #expect(paused?.due == nil)
        #expect(paused?.consumedSeconds == 3_600)
        let resumed = clock.reading(at: Self.at("2026-12-07T15:00:00+01:00"), calendar: Self.calendar)
        #expect(resumed?.due == Self.at("2026-12-08T12:00:00+01:00"))
        #expect(resumed?.consumedSeconds == 7_200)
    }

    @Test("a target changed mid-ticket keeps the time consumed; met or breached is judged when the clock stops")
    func targetChange() {
        var clock = SLAClock([
            .started(at: Self.at("2026-12-07T09:00:00+01:00"), targetMinutes: 480),
            .targetChanged(at: Self.at("2026-12-07T11:00:00+01:00"), targetMinutes: 240),
        ])
        #expect(clock.reading(at: Self.at("2026-12-07T11:00:00+01:00"), calendar: Self.calendar)?.due == Self.at("2026-12-07T14:00:00+01:00"))
        var late = clock
        late.entries.append(.stopped(at: Self.at("2026-12-07T14:30:00+01:00")))
        let breached = late.reading(at: Self.at("2026-12-08T10:00:00+01:00"), calendar: Self.calendar)
        #expect(breached?.met == false)
        #expect(breached?.breached == true)
        #expect(breached?.consumedSeconds == 16_200)
        clock.entries.append(.stopped(at: Self.at("2026-12-07T13:59:00+01:00")))
        #expect(clock.reading(at: Self.at("2026-12-08T10:00:00+01:00"), calendar: Self.calendar)?.met == true)
    }

    @Test("a calendar edited after a ticket closed leaves its figures as they were; later days follow the edit")
    func editedCalendar() {
        let longer = WorkWeek(days: Dictionary(uniqueKeysWithValues: (1...5).map { ($0, [WorkInterval(8 * 60, 20 * 60)]) }))
        let edited = BusinessCalendar(timeZone: Self.berlin, versions: [(LocalDay(2026, 1, 1), Self.office), (LocalDay(2026, 12, 14), longer)])
        let closed = SLAClock([
            .started(at: Self.at("2026-12-07T09:00:00+01:00"), targetMinutes: 480), .stopped(at: Self.at("2026-12-08T18:00:00+01:00")),
        ])
        let now = Self.at("2026-12-20T12:00:00+01:00")
        #expect(closed.reading(at: now, calendar: edited) == closed.reading(at: now, calendar: Self.calendar))
        #expect(closed.reading(at: now, calendar: edited)?.consumedSeconds == 54_000)
        // Friday 11 December on the old hours (60 minutes), Monday 14th on the new ones.
        #expect(edited.due(from: Self.at("2026-12-11T16:00:00+01:00"), adding: 600 * 60) == Self.at("2026-12-14T17:00:00+01:00"))
    }

    @Test("days and hours are read as people write them, and nonsense is refused")
    func parsing() {
        #expect(LocalDay("2026-12-25") == LocalDay(2026, 12, 25))
        #expect(LocalDay("2026-13-01") == nil)
        #expect(LocalDay("25.12.2026") == nil)
        #expect(WorkInterval(from: "08:00", to: "24:00") == WorkInterval(480, 1_440))
        #expect(WorkInterval(from: "17:00", to: "08:00") == nil)
        #expect(WorkInterval(from: "24:30", to: "25:00") == nil)
        let never = BusinessCalendar(timeZone: Self.berlin, week: WorkWeek(days: [:]))
        #expect(never.due(from: Self.at("2026-12-07T09:00:00+01:00"), adding: 60) == nil)
    }
}

extension BusinessTimeTests {
    @Test("hours from a time the March change skips begin when the clocks go on; from a time October repeats, at its first occurrence")
    func skippedAndRepeatedHours() {
        let night = WorkWeek(days: [7: [WorkInterval(2 * 60 + 30, 4 * 60)]])
        let calendar = BusinessCalendar(timeZone: Self.berlin, week: night)
        // 28 March 2027: 02:00 CET is followed by 03:00 CEST; the window is 03:00 to 04:00.
        #expect(calendar.seconds(from: Self.at("2027-03-28T00:00:00+01:00"), to: Self.at("2027-03-29T00:00:00+02:00")) == 3_600)
        // 25 October 2026: 02:30 comes twice; the window opens at the first (CEST) and ends at 04:00 CET.
        #expect(calendar.seconds(from: Self.at("2026-10-25T00:00:00+02:00"), to: Self.at("2026-10-26T00:00:00+01:00")) == 9_000)
    }
}
