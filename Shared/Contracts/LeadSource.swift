/// How a customer or lead heard of us: asked at the first purchase, and kept on each lead. The
/// contacts and sales services share the vocabulary.
public enum LeadSource: String, APIEnum {
    case advertising, referral, web, exhibition
    case coldCall = "cold_call"
    case other
}
