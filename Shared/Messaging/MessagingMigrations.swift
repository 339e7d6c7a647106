import Storage

/// The outbox and inbox every service has in its own schema (DESIGN.md §3, §4), and the functions
/// that write events in SQL: `Shared/Messaging/SQL/`, applied to every schema before its own.
public enum MessagingMigrations {
    public static let sql = SQLFiles(EmbeddedSQL.files)
}
