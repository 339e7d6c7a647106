import Foundation
import ServiceKit

/// A new pipeline: a name and its stages in order.
struct NewPipeline: Decodable, Sendable {
    var name: String?
    var isDefault: Bool?
    var stages: [StageFields]?

    enum CodingKeys: String, CodingKey {
        case name, stages
        case isDefault = "is_default"
    }

    func validated() throws(SalesError) -> (name: String, isDefault: Bool, stages: [(name: String, probability: Int)]) {
        var check = FieldChecker()
        let name = check.text(name, "name", required: true, maximum: 100)
        var stages: [(String, Int)] = []
        var names = Set<String>()
        if (self.stages ?? []).isEmpty { check.fail("stages", "needs at least one stage") }
        for (index, stage) in (self.stages ?? []).enumerated() {
            if let valid = stage.validated(at: "stages[\(index)]", into: &check, creating: true) {
                if !names.insert(valid.name.lowercased()).inserted { check.fail("stages[\(index)].name", "is already the name of another stage") }
                stages.append((valid.name, valid.probability ?? 0))
            }
        }
        try check.check(SalesError.invalid)
        return (name ?? "", isDefault ?? false, stages)
    }
}

/// A stage as a client writes it: added, renamed, given another default probability, or moved.
struct StageFields: Decodable, Sendable {
    var name: String?
    var probability: Int?
    /// 1-based place among the pipeline's active stages.
    var position: Int?

    func validated(at path: String, into check: inout FieldChecker, creating: Bool) -> (name: String, probability: Int?, position: Int?)? {
        let before = check.errors.count
        let name = check.text(name, path.isEmpty ? "name" : "\(path).name", required: creating || name != nil, maximum: 100)
        if creating, probability == nil { check.fail(path.isEmpty ? "probability" : "\(path).probability", "is required (0 to 100)") }
        if let probability, !(0...100).contains(probability) {
            check.fail(path.isEmpty ? "probability" : "\(path).probability", "must be a whole number from 0 to 100")
        }
        if let position, position < 1 { check.fail(path.isEmpty ? "position" : "\(path).position", "must be 1 or more") }
        return check.errors.count == before ? (name ?? "", probability, position) : nil
    }
}

/// A pipeline's own fields in a patch.
struct PipelinePatch: Decodable, Sendable {
    var name: String?
    var isDefault: Bool?
    var version: Int64?

    enum CodingKeys: String, CodingKey {
        case name, version
        case isDefault = "is_default"
    }
}

/// An entry of the lost-reason catalog as an admin writes it.
struct LostReasonFields: Decodable, Sendable {
    var code: String?
    var label: String?
    var retired: Bool?
}
