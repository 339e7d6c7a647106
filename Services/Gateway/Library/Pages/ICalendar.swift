import Foundation
import Messaging

/// Activities as an RFC 5545 calendar: one VEVENT each, times in UTC, text escaped and lines
/// folded at 75 octets as the standard asks (Outlook and Google refuse long unfolded lines).
enum ICalendar {
    static func calendar(name: String, activities: [JSONValue], base: String) -> String {
        var lines = [
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Switchboard//CRM activities//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
            "X-WR-CALNAME:" + escape("Switchboard: \(name)"), "REFRESH-INTERVAL;VALUE=DURATION:PT15M", "X-PUBLISHED-TTL:PT15M",
        ]
        let stamp = utc(Date())
        for activity in activities {
            guard let id = activity["id"]?.string, let due = activity["due_at"]?.string.flatMap(StaffPages.date) else { continue }
            let minutes = activity["duration_minutes"]?.number.map(Int.init) ?? 30
            let done = activity["done"]?.bool ?? false
            let kind = activity["kind"]?.string ?? "task"
            let end = due.addingTimeInterval(TimeInterval(max(minutes, 1) * 60))
            let summary = (done ? "✓ " : "") + kind.capitalized + ": " + (activity["subject"]?.string ?? "")
            let sequence = activity["version"]?.number.map(Int.init) ?? 0
            lines.append(contentsOf: ["BEGIN:VEVENT", "UID:\(id)@switchboard", "DTSTAMP:\(stamp)", "DTSTART:\(utc(due))", "DTEND:\(utc(end))"])
            lines.append(contentsOf: ["SUMMARY:" + escape(summary), "CATEGORIES:" + escape(kind), "STATUS:CONFIRMED"])
            lines.append(contentsOf: ["TRANSP:" + (kind == "task" ? "TRANSPARENT" : "OPAQUE"), "SEQUENCE:\(sequence)"])
            if let notes = activity["notes"]?.string, !notes.isEmpty { lines.append("DESCRIPTION:" + escape(notes)) }
            if let contact = activity["contact_id"]?.string { lines.append("URL:\(base)/contacts/\(contact)") }
            lines.append("END:VEVENT")
        }
        lines.append("END:VCALENDAR")
        return lines.map(fold).joined(separator: "\r\n") + "\r\n"
    }

    /// TEXT values escape backslash, semicolon, comma and line breaks.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ";", with: "\\;")
            .replacingOccurrences(of: ",", with: "\\,").replacingOccurrences(of: "\r\n", with: "\\n").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Lines longer than 75 octets continue on the next after a space, never inside a character.
    static func fold(_ line: String) -> String {
        var out = ""
        var octets = 0
        for character in line {
            let size = String(character).utf8.count
            if octets + size > 75 {
                out += "\r\n "
                octets = 1
            }
            out.append(character)
            octets += size
        }
        return out
    }

    static func utc(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.timeZone = .gmt
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }
}
