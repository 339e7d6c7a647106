import Foundation

/// A horizontal bar chart drawn by the server as SVG (no script, no library), with the numbers it
/// shows as a table and as CSV: every chart's figures are one click away.
struct BarChart: Sendable {
    struct Bar: Sendable {
        var label: String
        var value: Double
        /// What the bar's end says (a count, a share, an amount).
        var text: String
    }

    var title: String
    var bars: [Bar]
    /// The table's and the CSV's columns, and one row of cells per bar.
    var columns: [String]
    var rows: [[String]]

    static let width = 560.0, rowHeight = 26.0, labelWidth = 160.0, textWidth = 130.0

    var svg: String {
        let height = max(1, Double(bars.count)) * Self.rowHeight + 8
        let largest = bars.map(\.value).max() ?? 0
        let room = Self.width - Self.labelWidth - Self.textWidth
        var out = #"<svg class="chart" role="img" viewBox="0 0 \#(Int(Self.width)) \#(Int(height))" xmlns="http://www.w3.org/2000/svg">"#
        out += "<title>\(Self.escaped(title))</title>"
        for (index, bar) in bars.enumerated() {
            let y = Double(index) * Self.rowHeight + 4
            let length = largest > 0 ? max(1, room * bar.value / largest) : 1
            out += #"<text x="\#(Int(Self.labelWidth) - 6)" y="\#(Int(y + 17))" text-anchor="end">\#(Self.escaped(String(bar.label.prefix(30))))</text>"#
            out += ##"<rect x="\##(Int(Self.labelWidth))" y="\##(Int(y + 3))" width="\##(String(format: "%.1f", length))" height="\##(Int(Self.rowHeight - 8))" fill="#1f5fbf" rx="2"/>"##
            out += #"<text x="\#(String(format: "%.1f", Self.labelWidth + length + 6))" y="\#(Int(y + 17))">\#(Self.escaped(bar.text))</text>"#
        }
        return out + "</svg>"
    }

    var csv: String {
        ([columns] + rows).map { $0.map(Self.csvField).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    /// Quoted when it holds a comma, quote or line break; a leading =, +, - or @ is defused, so a
    /// spreadsheet never runs a label as a formula.
    static func csvField(_ text: String) -> String {
        var value = text
        if let first = value.first, "=+-@".contains(first), Double(value) == nil { value = "'" + value }
        guard value.contains(where: { ",\"\r\n".contains($0) }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// What a template shows: the drawing, and the figures as a table.
    var template: [String: Any] {
        ["title": title, "svg": svg, "columns": columns, "rows": rows.map { ["cells": $0] }, "empty": bars.isEmpty]
    }
}
