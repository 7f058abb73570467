/// The release of Marginalia this build is, as `margin --version` prints it and web
/// servers see it in the User-Agent.
public enum Release {
    public static let version = "0.1.0"
}
