import Contracts
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// Products and price lists: what a deal's lines and a quote are made of.
struct CatalogStore: ServiceStore {
    let service: ServiceDependencies

    var products: String { schema.table("products") }
    var priceLists: String { schema.table("price_lists") }
    var productDocument: String { "\(schema.quoted).product_document(p)::text" }
    var priceListDocument: String { "\(schema.quoted).price_list_document(l)::text" }

    // MARK: Products

    /// By code; `active=false` lists the retired ones, `q` matches code or name.
    func listProducts(_ filter: ProductFilter) async throws -> RawPage {
        var sql = SQLBuilder()
        sql.append("SELECT \(productDocument), ARRAY[lower(p.code), p.id::text] FROM \(products) p WHERE p.active = \(try sql.bind(filter.active))")
        if let search = filter.search {
            let pattern = try sql.bind(containsPattern(search.lowercased()))
            sql.append(" AND (lower(p.code) LIKE \(pattern) OR lower(p.name) LIKE \(pattern))")
        }
        try sql.appendPage(filter.page, in: Keyset([("lower(p.code)", ""), ("p.id", "::uuid")]))
        return try await client.page(sql.query, limit: filter.page.limit, logger: logger)
    }

    func product(_ id: UUID) async throws -> Document {
        try await client.document(
            productDocument, from: products, as: "p", id: id, orThrow: SalesError.notFound("product \(id.lowercased)"), logger: logger
        )
    }

    func createProduct(_ input: ProductFields) async throws -> Document {
        let fields = try input.validated()
        return try await client.transaction(logger: logger) { connection in
            try await requireFreeCode(fields.code!, except: nil, on: connection)
            var sql = SQLBuilder()
            let columns = try Self.columns(fields, into: &sql) + [("id", try sql.bind(UUID()))]
            sql.append("""
                INSERT INTO \(products) AS p (\(columns.map(\.0).joined(separator: ", "))) VALUES (\(columns.map(\.1).joined(separator: ", ")))
                RETURNING \(productDocument)
                """)
            return try await connection.document(returnedBy: sql.query, logger: logger)
        }
    }

    /// A merge patch; a product in use keeps its id, so deals and quotes that name it stay right.
    func updateProduct(_ id: UUID, patch: JSONValue, expectedVersion: Int64) async throws -> Document {
        guard case .object = patch else { throw SalesError.malformed("the body must be a JSON object (a merge patch)") }
        return try await client.transaction(logger: logger) { connection in
            var read = SQLBuilder()
            read.append("SELECT \(productDocument) FROM \(products) p WHERE p.id = \(try read.bind(id)) FOR UPDATE")
            guard let current = try await connection.document(read.query, logger: logger) else { throw SalesError.notFound("product \(id.lowercased)") }
            let version = try current.identity.version ?? 0
            guard version == expectedVersion else { throw SalesError.versionMismatch(expected: expectedVersion, current: version) }
            let fields = try Document.writableFields(ProductFields.self, of: current, patchedWith: patch, invalid: SalesError.invalid).validated()
            try await requireFreeCode(fields.code!, except: id, on: connection)
            var sql = SQLBuilder()
            let columns = try Self.columns(fields, into: &sql)
            sql.append("""
                UPDATE \(products) AS p SET \(columns.map { "\($0.0) = \($0.1)" }.joined(separator: ", ")),
                    version = version + 1, updated_at = date_trunc('milliseconds', now())
                WHERE p.id = \(try sql.bind(id)) RETURNING \(productDocument)
                """)
            return try await connection.document(returnedBy: sql.query, logger: logger)
        }
    }

    private func requireFreeCode(_ code: String, except id: UUID?, on connection: PostgresConnection) async throws {
        try await connection.requireUnique(code, in: products, column: "code", except: id, lock: "sales.product-codes", logger: logger) { other in
            SalesError.conflict(.productCodeTaken, "product \(other.lowercased) already has the code '\(code)'")
        }
    }

    private static func columns(_ fields: ProductFields, into sql: inout SQLBuilder) throws -> [(String, String)] {
        [
            ("code", try sql.bind(fields.code ?? "")),
            ("name", try sql.bind(fields.name ?? "")),
            ("unit", try sql.bind(fields.unit ?? "pc")),
            ("base_price", try sql.bind(fields.basePrice?.amountText ?? "0") + "::numeric"),
            ("currency", try sql.bind(fields.basePrice?.currency ?? "EUR")),
            ("tax_rate", try sql.bind("\(fields.taxRate ?? 0)") + "::numeric"),
            ("active", try sql.bind(fields.active ?? true)),
        ]
    }

    // MARK: Price lists

    func listPriceLists() async throws -> RawPage {
        try await client.unpaged(
            PostgresQuery(unsafeSQL: "SELECT \(priceListDocument) FROM \(priceLists) l ORDER BY lower(l.name), l.id"), logger: logger
        )
    }

    func priceList(_ id: UUID) async throws -> Document {
        try await client.document(
            priceListDocument, from: priceLists, as: "l", id: id, orThrow: SalesError.notFound("price list \(id.lowercased)"), logger: logger
        )
    }

    func createPriceList(_ input: PriceListFields) async throws -> Document {
        let fields = try input.validated()
        return try await client.transaction(logger: logger) { connection in
            try await requireFreeName(fields.name!, except: nil, on: connection)
            var sql = SQLBuilder()
            sql.append("""
                INSERT INTO \(priceLists) AS l (id, name, currency, customer_group)
                VALUES (\(try sql.bind(UUID())), \(try sql.bind(fields.name!)), \(try sql.bind(fields.currency!)), \(try sql.bind(fields.customerGroup)))
                RETURNING \(priceListDocument)
                """)
            return try await connection.document(returnedBy: sql.query, logger: logger)
        }
    }

    /// Renames the list or moves it to another customer group; its currency stays (its prices are in it).
    func updatePriceList(_ id: UUID, _ input: PriceListFields, expectedVersion: Int64?) async throws -> Document {
        try await changePriceList(id, expectedVersion: expectedVersion) { current, connection in
            if let currency = input.currency, currency.uppercased() != (try current.decode(PriceListFields.self)).currency {
                throw SalesError.invalid("currency", "cannot change: the list's prices are in its currency; make another list")
            }
            var check = FieldChecker()
            let name = input.name.map { _ in check.text(input.name, "name", required: true, maximum: 100) } ?? nil
            let group = check.text(input.customerGroup, "customer_group", maximum: 100)
            try check.check(SalesError.invalid)
            if let name { try await requireFreeName(name, except: id, on: connection) }
            var sql = SQLBuilder()
            sql.append("UPDATE \(priceLists) SET name = coalesce(\(try sql.bind(name)), name)")
            if input.customerGroup != nil { sql.append(", customer_group = \(try sql.bind(group))") }
            sql.append(" WHERE id = \(try sql.bind(id))")
            try await connection.query(sql.query, logger: logger)
        }
    }

    /// Sets (or with nil removes) a product's price in the list.
    func setPrice(_ price: Money?, of product: UUID, in id: UUID) async throws -> Document {
        try await changePriceList(id, expectedVersion: nil) { current, connection in
            var sql = SQLBuilder()
            if let price {
                let currency = try current.decode(PriceListFields.self).currency
                guard price.currency == currency else {
                    throw SalesError.invalid("unit_price.currency", "must be the list's currency, \(currency ?? "")")
                }
                guard price.amount >= 0 else { throw SalesError.invalid("unit_price.amount", "must not be negative") }
                // On the transaction's connection: a read from the pool here would hold a second one.
                var exists = SQLBuilder()
                exists.append("SELECT id::text FROM \(products) WHERE id = \(try exists.bind(product))")
                if try await connection.texts(exists.query, logger: logger).isEmpty { throw SalesError.notFound("product \(product.lowercased)") }
                sql.append("""
                    INSERT INTO \(schema.table("price_list_prices")) (price_list_id, product_id, unit_price)
                    VALUES (\(try sql.bind(id)), \(try sql.bind(product)), \(try sql.bind(price.amountText))::numeric)
                    ON CONFLICT (price_list_id, product_id) DO UPDATE SET unit_price = EXCLUDED.unit_price
                    """)
                try await connection.query(sql.query, logger: logger)
            } else {
                sql.append("""
                    DELETE FROM \(schema.table("price_list_prices")) WHERE price_list_id = \(try sql.bind(id)) AND product_id = \(try sql.bind(product))
                    RETURNING 1
                    """)
                if try await connection.texts(sql.query, logger: logger).isEmpty {
                    throw SalesError.notFound("a price of product \(product.lowercased) in price list \(id.lowercased)")
                }
            }
        }
    }

    private func changePriceList(
        _ id: UUID, expectedVersion: Int64?, _ body: @escaping @Sendable (Document, PostgresConnection) async throws -> Void
    ) async throws -> Document {
        try await client.transaction(logger: logger) { connection in
            var read = SQLBuilder()
            read.append("SELECT \(priceListDocument) FROM \(priceLists) l WHERE l.id = \(try read.bind(id)) FOR UPDATE")
            guard let current = try await connection.document(read.query, logger: logger) else { throw SalesError.notFound("price list \(id.lowercased)") }
            let version = try current.identity.version ?? 0
            if let expectedVersion, version != expectedVersion { throw SalesError.versionMismatch(expected: expectedVersion, current: version) }
            try await body(current, connection)
            var bump = SQLBuilder()
            bump.append("""
                UPDATE \(priceLists) AS l SET version = version + 1, updated_at = date_trunc('milliseconds', now())
                WHERE l.id = \(try bump.bind(id)) RETURNING \(priceListDocument)
                """)
            return try await connection.document(returnedBy: bump.query, logger: logger)
        }
    }

    private func requireFreeName(_ name: String, except id: UUID?, on connection: PostgresConnection) async throws {
        try await connection.requireUnique(name, in: priceLists, column: "name", except: id, lock: "sales.price-list-names", logger: logger) { other in
            SalesError.conflict(.priceListNameTaken, "price list \(other.lowercased) is already named '\(name)'")
        }
    }
}
