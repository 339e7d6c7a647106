import Foundation
import Hummingbird
import Logging
import NIOCore
import Storage

/// Makes every failure an `application/problem+json` answer: a `Problem` as thrown, a service's own
/// error as its mapping says, Hummingbird's own errors (404, 405, 413) with their status, and
/// anything else as a 500 that is logged with what failed but tells the client nothing internal.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            throw problem
        } catch let error as any ServiceError {
            throw error.problem
        } catch let error as HTTPError {
            throw Problem(error.status, detail: error.body)
        } catch is NIOTooManyBytesError {
            throw Problem(.contentTooLarge, slug: "body-too-large", detail: "the body is larger than \(context.maxUploadSize) bytes")
        } catch let error as any HTTPResponseError {
            throw Problem(error.status)
        } catch let error as DecodingError {
            throw Problem.decoding(error)
        } catch let error where DatabaseFault.kind(of: error) == .connectivity {
            throw Problem.database(DatabaseFault.normalized(error))
        } catch let error where DatabaseFault.kind(of: error) == .conflict {
            // Deadlocked or serialized away three times: busy, not broken.
            throw Problem(
                .serviceUnavailable, slug: "database-busy", title: "Database busy",
                detail: "the change kept meeting concurrent ones and was not made; try again (\(DatabaseFault.reason(error)))",
                headers: ["Retry-After": "1"]
            )
        } catch is CancellationError {
            // Abandoned past its deadline: the deadline's answer has gone out already.
            throw Problem(.serviceUnavailable, slug: "cancelled", detail: "the request was given up")
        } catch {
            context.logger.error(
                "request failed", metadata: ["path": "\(request.uri.path)", "error": "\(String(reflecting: error))"]
            )
            throw Problem(.internalServerError, slug: "internal", detail: "the request failed inside the service; it is logged")
        }
    }
}

extension Problem {
    /// A database that failed the request: nothing was written, or (a lost commit) it is unknown
    /// whether it was; either way the client may retry, with the same `Idempotency-Key` to be safe.
    public static func database(_ error: any Error) -> Problem {
        if case let DatabaseFault.commitOutcomeUnknown(reason)? = error as? DatabaseFault {
            return Problem(
                .serviceUnavailable, slug: "commit-outcome-unknown", title: "Outcome unknown",
                detail: "the connection to the database was lost while the change was being committed, so whether it was saved "
                    + "is unknown (\(reason)); send the request again with the same Idempotency-Key to learn the outcome, or read the resource",
                headers: ["Retry-After": "2"]
            )
        }
        return Problem(
            .serviceUnavailable, slug: "database-unavailable", title: "Database unavailable",
            detail: "the database cannot be reached, and nothing was changed; try again shortly", headers: ["Retry-After": "2"]
        )
    }

    /// The decoder's first complaint, with the field it concerns; one about the whole body is a 400.
    public static func decoding(_ error: DecodingError) -> Problem {
        let complaint = FieldError(decoding: error)
        guard complaint.field.isEmpty else { return validation([complaint]) }
        switch error {
        case .typeMismatch: return badRequest("the body must be a JSON object")
        case .dataCorrupted: return badRequest("the body is not valid JSON")
        case .valueNotFound, .keyNotFound: return validation([complaint])
        @unknown default: return badRequest("the body cannot be read")
        }
    }
}
