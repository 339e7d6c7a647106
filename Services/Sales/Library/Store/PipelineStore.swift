import Foundation
import Logging
import PostgresNIO
import ServiceKit
import Storage

/// Pipelines and their ordered stages. Stages are added, renamed, reordered and retired without
/// touching a deal: a deal keeps its stage id, and a retired stage keeps its row and its history.
/// Every change of a pipeline or its stages takes the pipeline's row lock and bumps its version.
struct PipelineStore: ServiceStore {
    let service: ServiceDependencies

    var pipelines: String { schema.table("pipelines") }
    var stages: String { schema.table("stages") }
    var document: String { "\(schema.quoted).pipeline_document(p)::text" }

    /// The default pipeline first, then by name (there are few: no paging).
    func list() async throws -> RawPage {
        try await client.unpaged(
            PostgresQuery(unsafeSQL: "SELECT \(document) FROM \(pipelines) p ORDER BY p.is_default DESC, lower(p.name), p.id"), logger: logger
        )
    }

    func get(_ id: UUID) async throws -> Document {
        try await client.document(
            document, from: pipelines, as: "p", id: id, orThrow: SalesError.notFound("pipeline \(id.lowercased)"), logger: logger
        )
    }

    func create(_ input: NewPipeline) async throws -> Document {
        let valid = try input.validated()
        let id = UUID()
        return try await client.transaction(logger: logger) { connection in
            try await requireFreeName(valid.name, except: nil, on: connection)
            if valid.isDefault { try await clearDefault(except: nil, on: connection) }
            var sql = SQLBuilder()
            sql.append("""
                INSERT INTO \(pipelines) (id, name, is_default)
                VALUES (\(try sql.bind(id)), \(try sql.bind(valid.name)), \(try sql.bind(valid.isDefault)))
                """)
            try await connection.query(sql.query, logger: logger)
            var insert = SQLBuilder()
            insert.append("""
                INSERT INTO \(stages) (id, pipeline_id, name, position, probability)
                SELECT gen_random_uuid(), \(try insert.bind(id)), name, position, probability
                FROM unnest(\(try insert.bind(valid.stages.map(\.name)))::text[], \(try insert.bind(valid.stages.map { Int32($0.probability) }))::int[])
                    WITH ORDINALITY AS s (name, probability, position)
                """)
            try await connection.query(insert.query, logger: logger)
            return try await read(id, on: connection)
        }
    }

    /// Renames the pipeline or makes it the default (the default moves; it is never unset).
    func update(_ id: UUID, _ patch: PipelinePatch, expectedVersion: Int64) async throws -> Document {
        var check = FieldChecker()
        let name = patch.name.map { _ in check.text(patch.name, "name", required: true, maximum: 100) } ?? nil
        if patch.isDefault == false { check.fail("is_default", "cannot be unset; make another pipeline the default instead") }
        try check.check(SalesError.invalid)
        return try await change(id, expectedVersion: expectedVersion) { connection in
            if let name {
                try await requireFreeName(name, except: id, on: connection)
                var sql = SQLBuilder()
                sql.append("UPDATE \(pipelines) SET name = \(try sql.bind(name)) WHERE id = \(try sql.bind(id))")
                try await connection.query(sql.query, logger: logger)
            }
            if patch.isDefault == true {
                try await clearDefault(except: id, on: connection)
                var sql = SQLBuilder()
                sql.append("UPDATE \(pipelines) SET is_default = true WHERE id = \(try sql.bind(id))")
                try await connection.query(sql.query, logger: logger)
            }
        }
    }

    /// A new stage at `position` among the active ones (at the end without one).
    func addStage(to id: UUID, _ input: StageFields) async throws -> Document {
        var check = FieldChecker()
        let valid = input.validated(at: "", into: &check, creating: true)
        try check.check(SalesError.invalid)
        guard let valid else { throw SalesError.invalid(check.errors) }
        return try await change(id, expectedVersion: nil) { connection in
            try await requireFreeStageName(valid.name, in: id, except: nil, on: connection)
            var order = try await activeStages(of: id, on: connection)
            let stage = UUID()
            var sql = SQLBuilder()
            sql.append("""
                INSERT INTO \(stages) (id, pipeline_id, name, position, probability)
                VALUES (\(try sql.bind(stage)), \(try sql.bind(id)), \(try sql.bind(valid.name)), 0, \(try sql.bind(Int32(valid.probability ?? 0))))
                """)
            try await connection.query(sql.query, logger: logger)
            order.insert(stage, at: min(max((valid.position ?? order.count + 1) - 1, 0), order.count))
            try await renumber(order, on: connection)
        }
    }

    /// Renames a stage, changes its default probability, or moves it to `position`.
    func updateStage(_ stageId: UUID, of id: UUID, _ input: StageFields) async throws -> Document {
        var check = FieldChecker()
        let valid = input.validated(at: "", into: &check, creating: false)
        try check.check(SalesError.invalid)
        guard let valid else { throw SalesError.invalid(check.errors) }
        return try await change(id, expectedVersion: nil) { connection in
            var order = try await activeStages(of: id, on: connection)
            guard let index = order.firstIndex(of: stageId) else {
                throw SalesError.notFound("active stage \(stageId.lowercased) of pipeline \(id.lowercased)")
            }
            if input.name != nil {
                try await requireFreeStageName(valid.name, in: id, except: stageId, on: connection)
                var sql = SQLBuilder()
                sql.append("UPDATE \(stages) SET name = \(try sql.bind(valid.name)) WHERE id = \(try sql.bind(stageId))")
                try await connection.query(sql.query, logger: logger)
            }
            if let probability = valid.probability {
                var sql = SQLBuilder()
                sql.append("UPDATE \(stages) SET probability = \(try sql.bind(Int32(probability))) WHERE id = \(try sql.bind(stageId))")
                try await connection.query(sql.query, logger: logger)
            }
            if let position = valid.position {
                order.remove(at: index)
                order.insert(stageId, at: min(position - 1, order.count))
                try await renumber(order, on: connection)
            }
        }
    }

    /// Retires a stage: no deal enters it any more; deals in it stay until moved, and its history stays.
    func retireStage(_ stageId: UUID, of id: UUID) async throws -> Document {
        try await change(id, expectedVersion: nil) { connection in
            var order = try await activeStages(of: id, on: connection)
            guard let index = order.firstIndex(of: stageId) else {
                throw SalesError.notFound("active stage \(stageId.lowercased) of pipeline \(id.lowercased)")
            }
            guard order.count > 1 else {
                throw SalesError.conflict(.lastStage, "stage \(stageId.lowercased) is the pipeline's only active stage; add another first")
            }
            var sql = SQLBuilder()
            sql.append("UPDATE \(stages) SET retired_at = date_trunc('milliseconds', now()) WHERE id = \(try sql.bind(stageId))")
            try await connection.query(sql.query, logger: logger)
            order.remove(at: index)
            try await renumber(order, on: connection)
        }
    }

    // MARK: Parts

    /// Locks the pipeline, checks its version when one is expected, applies `body`, bumps the version.
    private func change(
        _ id: UUID, expectedVersion: Int64?, _ body: @escaping @Sendable (PostgresConnection) async throws -> Void
    ) async throws -> Document {
        try await client.transaction(logger: logger) { connection in
            var sql = SQLBuilder()
            sql.append("SELECT version FROM \(pipelines) WHERE id = \(try sql.bind(id)) FOR UPDATE")
            var version: Int64?
            for try await current in try await connection.query(sql.query, logger: logger).decode(Int64.self) { version = current }
            guard let version else { throw SalesError.notFound("pipeline \(id.lowercased)") }
            if let expectedVersion, expectedVersion != version { throw SalesError.versionMismatch(expected: expectedVersion, current: version) }
            try await body(connection)
            var bump = SQLBuilder()
            bump.append("UPDATE \(pipelines) SET version = version + 1, updated_at = date_trunc('milliseconds', now()) WHERE id = \(try bump.bind(id))")
            try await connection.query(bump.query, logger: logger)
            return try await read(id, on: connection)
        }
    }

    private func read(_ id: UUID, on connection: PostgresConnection) async throws -> Document {
        var sql = SQLBuilder()
        sql.append("SELECT \(document) FROM \(pipelines) p WHERE p.id = \(try sql.bind(id))")
        return try await connection.document(returnedBy: sql.query, logger: logger)
    }

    private func activeStages(of id: UUID, on connection: PostgresConnection) async throws -> [UUID] {
        var sql = SQLBuilder()
        sql.append("SELECT id FROM \(stages) WHERE pipeline_id = \(try sql.bind(id)) AND retired_at IS NULL ORDER BY position, id")
        var ids: [UUID] = []
        for try await stage in try await connection.query(sql.query, logger: logger).decode(UUID.self) { ids.append(stage) }
        return ids
    }

    /// Positions 1, 2, 3… in the order given.
    private func renumber(_ order: [UUID], on connection: PostgresConnection) async throws {
        var sql = SQLBuilder()
        sql.append("""
            UPDATE \(stages) s SET position = o.position FROM unnest(\(try sql.bind(order))::uuid[]) WITH ORDINALITY AS o (id, position)
            WHERE s.id = o.id AND s.position <> o.position
            """)
        try await connection.query(sql.query, logger: logger)
    }

    /// The pipeline that is the default stops being it (a new version of it). The lock keeps two
    /// new defaults from each clearing the old one and then both being set.
    private func clearDefault(except id: UUID?, on connection: PostgresConnection) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(hashtext('sales.default-pipeline'))", logger: logger)
        var sql = SQLBuilder()
        sql.append("""
            UPDATE \(pipelines) SET is_default = false, version = version + 1, updated_at = date_trunc('milliseconds', now())
            WHERE is_default AND id IS DISTINCT FROM \(try sql.bind(id))
            """)
        try await connection.query(sql.query, logger: logger)
    }

    private func requireFreeName(_ name: String, except id: UUID?, on connection: PostgresConnection) async throws {
        try await connection.requireUnique(name, in: pipelines, column: "name", except: id, lock: "sales.pipeline-names", logger: logger) { other in
            SalesError.conflict(.pipelineNameTaken, "pipeline \(other.lowercased) is already named '\(name)'")
        }
    }

    private func requireFreeStageName(_ name: String, in id: UUID, except stageId: UUID?, on connection: PostgresConnection) async throws {
        var sql = SQLBuilder()
        sql.append("""
            SELECT id FROM \(stages) WHERE pipeline_id = \(try sql.bind(id)) AND retired_at IS NULL AND lower(name) = lower(\(try sql.bind(name)))
            """)
        for try await other in try await connection.query(sql.query, logger: logger).decode(UUID.self) where other != stageId {
            throw SalesError.conflict(.stageNameTaken, "stage \(other.lowercased) of this pipeline is already named '\(name)'")
        }
    }
}
