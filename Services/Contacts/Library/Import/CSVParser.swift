/// An RFC 4180 reader fed bytes as they arrive: quoted fields with `""` escapes and line breaks,
/// CRLF or LF line ends, a UTF-8 byte order mark at the start. It never holds more than the
/// record being read, so a file of any size streams through it. Its delimiters are ASCII, so it
/// reads any charset that keeps ASCII as it is; fields are decoded in the file's `charset`.
struct CSVParser {
    let charset: CSVCharset
    private var field: [UInt8] = []
    private var record: [String] = []
    private var inQuotes = false
    private var quoteInQuoted = false
    private var fieldStarted = false
    /// The bytes of the current record as they came, for the error report.
    private var raw: [UInt8] = []

    struct Record {
        var fields: [String]
        /// The row as it was in the file, as far as it can be shown (`CSVCharset.display`).
        var raw: String
        /// The first field whose bytes are not text in the charset, and why.
        var invalid: (field: Int, error: CSVTextError)?
    }

    init(charset: CSVCharset = .utf8) {
        self.charset = charset
    }

    private var invalid: (field: Int, error: CSVTextError)?

    /// The first bytes, held until they show whether the input starts with a UTF-8 byte order mark.
    private var head: [UInt8]? = []
    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// Feeds a chunk; returns the records it completed.
    mutating func feed(_ bytes: some Sequence<UInt8>) -> [Record] {
        var records: [Record] = []
        for byte in bytes {
            if var start = head {
                start.append(byte)
                if Self.byteOrderMark.starts(with: start) {
                    head = start.count == Self.byteOrderMark.count ? nil : start
                    continue
                }
                head = nil
                for held in start { consume(held, into: &records) }
                continue
            }
            consume(byte, into: &records)
        }
        return records
    }

    private mutating func consume(_ byte: UInt8, into records: inout [Record]) {
        let quote: UInt8 = 0x22, comma: UInt8 = 0x2C, newline: UInt8 = 0x0A, carriageReturn: UInt8 = 0x0D
        if inQuotes {
            raw.append(byte)
            if quoteInQuoted {
                quoteInQuoted = false
                if byte == quote {
                    field.append(quote)
                    return
                }
                inQuotes = false  // the quote closed the field; this byte follows it
                raw.removeLast()
                consume(byte, into: &records)
                return
            }
            if byte == quote {
                quoteInQuoted = true
            } else {
                field.append(byte)
            }
            return
        }
        switch byte {
        case quote where !fieldStarted:
            inQuotes = true
            fieldStarted = true
            raw.append(byte)
        case comma:
            endField()
            raw.append(byte)
        case newline:
            if let record = endRecord() { records.append(record) }
        case carriageReturn:
            break  // a CR before the LF; a lone CR inside a field is dropped too
        default:
            field.append(byte)
            fieldStarted = true
            raw.append(byte)
        }
    }

    private mutating func endField() {
        switch charset.decode(field) {
        case let .success(text):
            record.append(text)
        case let .failure(error):
            if invalid == nil { invalid = (record.count, error) }
            record.append(charset.display(field))
        }
        field.removeAll(keepingCapacity: true)
        fieldStarted = false
    }

    private mutating func endRecord() -> Record? {
        endField()
        defer {
            record.removeAll(keepingCapacity: true)
            raw.removeAll(keepingCapacity: true)
            invalid = nil
        }
        if record.count == 1 && record[0].isEmpty && invalid == nil { return nil }  // a blank line
        return Record(fields: record, raw: charset.display(raw), invalid: invalid)
    }

    /// The last record when the input does not end with a line break.
    mutating func finish() -> Record? {
        if quoteInQuoted {
            quoteInQuoted = false
            inQuotes = false
        }
        guard fieldStarted || !field.isEmpty || !record.isEmpty else { return nil }
        return endRecord()
    }

    /// True when the input ended inside a quoted field (an unterminated quote).
    var isInsideQuotes: Bool { inQuotes && !quoteInQuoted }
}
