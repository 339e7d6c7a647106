import PostgresNIO

extension PostgresBindings {
    /// Bindings for `PostgresQuery(unsafeSQL:binds:)`, which the schema-qualified queries need
    /// because a schema name cannot be a bound parameter.
    public static func of(_ values: any PostgresEncodable & Sendable...) throws -> PostgresBindings {
        var bindings = PostgresBindings()
        for value in values { try bindings.append(value) }
        return bindings
    }
}
