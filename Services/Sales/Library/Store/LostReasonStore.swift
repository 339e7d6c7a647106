import Foundation
import Logging
import PostgresNIO
import ServiceKit
import Storage

/// The catalog of reasons a deal is lost for, which an admin edits. A retired reason stays on
/// the deals that gave it, but no new loss may give it.
struct LostReasonStore: ServiceStore {
    let service: ServiceDependencies

    var reasons: String { schema.table("lost_reasons") }
    static let document = "jsonb_build_object('code', r.code, 'label', r.label, 'retired', r.retired_at IS NOT NULL)::text"

    func list() async throws -> RawPage {
        try await client.unpaged(PostgresQuery(unsafeSQL: "SELECT \(Self.document) FROM \(reasons) r ORDER BY r.position, r.code"), logger: logger)
    }

    func create(_ input: LostReasonFields) async throws -> String {
        var check = FieldChecker()
        let code = check.text(input.code, "code", required: true, maximum: 50)
        if let code, code.wholeMatch(of: /[a-z][a-z0-9_]*/) == nil {
            check.fail("code", "must be lower-case letters, digits and underscores, starting with a letter (such as no_budget)")
        }
        let label = check.text(input.label, "label", required: true, maximum: 100)
        if input.retired == true { check.fail("retired", "a new reason cannot be retired") }
        try check.check(SalesError.invalid)
        var sql = SQLBuilder()
        sql.append("""
            INSERT INTO \(reasons) AS r (code, label, position)
            VALUES (\(try sql.bind(code!)), \(try sql.bind(label!)), (SELECT coalesce(max(position), 0) + 1 FROM \(reasons)))
            ON CONFLICT (code) DO NOTHING RETURNING \(Self.document)
            """)
        guard let text = try await client.write(sql.query, logger: logger).first else {
            throw SalesError.conflict(.lostReasonExists, "the lost reason '\(code!)' exists already")
        }
        return text
    }

    /// A new label, or retired (or back in use).
    func update(_ code: String, _ input: LostReasonFields) async throws -> String {
        var check = FieldChecker()
        if input.code != nil && input.code != code { check.fail("code", "cannot be changed; deals keep the code they gave") }
        let label = input.label.map { _ in check.text(input.label, "label", required: true, maximum: 100) } ?? nil
        try check.check(SalesError.invalid)
        var sql = SQLBuilder()
        sql.append("UPDATE \(reasons) AS r SET label = coalesce(\(try sql.bind(label)), r.label)")
        if let retired = input.retired {
            sql.append(", retired_at = \(retired ? "coalesce(r.retired_at, date_trunc('milliseconds', now()))" : "NULL")")
        }
        sql.append(" WHERE r.code = \(try sql.bind(code)) RETURNING \(Self.document)")
        guard let text = try await client.write(sql.query, logger: logger).first else { throw SalesError.notFound("lost reason '\(code)'") }
        return text
    }

    /// An invalid `reason`, naming the active ones, unless `code` is one of them.
    static func requireActive(_ code: String, schema: SchemaName, on connection: PostgresConnection, logger: Logger) async throws {
        var sql = SQLBuilder()
        sql.append("""
            SELECT string_agg(code, ', ' ORDER BY position) FILTER (WHERE retired_at IS NULL),
                bool_or(code = \(try sql.bind(code)) AND retired_at IS NULL)
            FROM \(schema.table("lost_reasons"))
            """)
        for try await (active, found) in try await connection.query(sql.query, logger: logger).decode((String?, Bool?).self) where found != true {
            throw SalesError.invalid("reason", "'\(code)' is not a lost reason in use; use one of: \(active ?? "")")
        }
    }
}
