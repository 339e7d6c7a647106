import Foundation
import Logging
import PostgresNIO
import Storage

/// Team membership seen from one side: a team's members or a user's teams. Setting one side
/// replaces its rows in one statement; the other side's rows that joined or left are returned,
/// because each of them is a new version of that user or team.
struct TeamMembership {
    /// The side held fixed (`team_id` or `user_id`) and the side whose set is replaced.
    let fixed: String
    let varying: String
    /// The table the varying ids must exist in (`users` or `teams`).
    let varyingTable: String
    let schema: SchemaName
    let logger: Logger

    static func ofTeam(schema: SchemaName, logger: Logger) -> TeamMembership {
        TeamMembership(fixed: "team_id", varying: "user_id", varyingTable: "users", schema: schema, logger: logger)
    }

    static func ofUser(schema: SchemaName, logger: Logger) -> TeamMembership {
        TeamMembership(fixed: "user_id", varying: "team_id", varyingTable: "teams", schema: schema, logger: logger)
    }

    /// Replaces the set, unless an id of it does not exist: then nothing changes and `missing` names them.
    func replace(_ id: UUID, with wanted: [UUID], on connection: PostgresConnection) async throws -> (missing: [String], changed: [UUID]) {
        let members = schema.table("team_members")
        var sql = SQLBuilder()
        let wantedBind = try sql.bind(Array(Set(wanted)))
        let idBind = try sql.bind(id)
        sql.append("""
            WITH wanted AS (SELECT unnest(\(wantedBind)::uuid[]) AS other),
            missing AS (SELECT w.other FROM wanted w WHERE NOT EXISTS (SELECT 1 FROM \(schema.table(varyingTable)) x WHERE x.id = w.other)),
            gone AS (
                DELETE FROM \(members) m WHERE m.\(fixed) = \(idBind)
                    AND m.\(varying) NOT IN (SELECT other FROM wanted) AND NOT EXISTS (SELECT 1 FROM missing)
                RETURNING m.\(varying) AS other),
            joined AS (
                INSERT INTO \(members) (\(fixed), \(varying))
                SELECT \(idBind), w.other FROM wanted w WHERE NOT EXISTS (SELECT 1 FROM missing)
                ON CONFLICT DO NOTHING RETURNING \(varying) AS other)
            SELECT (SELECT array_agg(other::text) FROM missing), (SELECT array_agg(other) FROM (SELECT other FROM gone UNION SELECT other FROM joined) c)
            """)
        for try await (missing, changed) in try await connection.query(sql.query, logger: logger).decode(([String]?, [UUID]?).self) {
            return ((missing ?? []).sorted(), (changed ?? []).sorted { $0.uuidString < $1.uuidString })
        }
        return ([], [])
    }
}
