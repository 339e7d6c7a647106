import Foundation

/// Splits a migration's SQL into statements: PostgreSQL's extended protocol, which postgres-nio
/// speaks, takes one statement per query. Semicolons inside quotes, dollar-quoted bodies and
/// comments do not split.
enum SQLScript {
    static func statements(_ sql: String) -> [String] {
        let chars = Array(sql)
        var statements: [String] = []
        var current = ""
        var index = 0
        func peek(_ offset: Int) -> Character? { index + offset < chars.count ? chars[index + offset] : nil }
        while index < chars.count {
            let c = chars[index]
            if c == "-", peek(1) == "-" {
                while index < chars.count, chars[index] != "\n" { index += 1 }
                continue
            }
            if c == "/", peek(1) == "*" {
                index += 2
                while index < chars.count, !(chars[index] == "*" && peek(1) == "/") { index += 1 }
                index += 2
                continue
            }
            if c == "'" || c == "\"" {
                current.append(c)
                index += 1
                while index < chars.count {
                    current.append(chars[index])
                    if chars[index] == c {
                        if peek(1) == c {  // doubled quote inside the literal
                            index += 1
                            current.append(chars[index])
                        } else {
                            break
                        }
                    }
                    index += 1
                }
                index += 1
                continue
            }
            if c == "$", let tagEnd = chars[(index + 1)...].firstIndex(where: { !($0.isLetter || $0.isNumber || $0 == "_") }),
                chars[tagEnd] == "$"
            {
                let tag = String(chars[index...tagEnd])
                current += tag
                index = tagEnd + 1
                while index < chars.count, !String(chars[index..<min(index + tag.count, chars.count)]).elementsEqual(tag) {
                    current.append(chars[index])
                    index += 1
                }
                current += tag
                index += tag.count
                continue
            }
            if c == ";" {
                append(current, to: &statements)
                current = ""
            } else {
                current.append(c)
            }
            index += 1
        }
        append(current, to: &statements)
        return statements
    }

    private static func append(_ statement: String, to statements: inout [String]) {
        let trimmed = statement.trimmingCharacters(in: .whitespacesAndNewlines)
        if !trimmed.isEmpty { statements.append(trimmed) }
    }
}


