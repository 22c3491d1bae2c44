/// Which colour in a mask WITHOUT alpha means "edit here" (threshold at 50% grey).
public enum MaskEditColor: String, Sendable, Codable {
    case black, white
}
