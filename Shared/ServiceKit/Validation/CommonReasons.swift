/// The words of the failures every service has, the same in each service's error and in the
/// problem document it becomes.
public enum CommonReasons {
    public static func notFound(_ what: String) -> String { "\(what) does not exist" }

    public static func versionMismatch(expected: Int64, current: Int64) -> String {
        "the request expected version \(expected) but the current version is \(current); read it again and retry"
    }
}
