/// What a service's stores, rules and event handlers throw: an error of the service's own, in its
/// words (`ContactsError.duplicate`), never an HTTP status. Each service says once, in
/// `Routes/<Service>Error+Problem.swift`, which problem document each of its errors is;
/// `ProblemMiddleware` applies it. Database faults and `DecodingError` need no mapping of a
/// service's own: the middleware knows them for every service.
public protocol ServiceError: Error, Sendable {
    var problem: Problem { get }
}
