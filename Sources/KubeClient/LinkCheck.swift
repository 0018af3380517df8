import COpenSSL
import YAML

/// Versions of the C libraries linked in, for `multus --version`.
public enum LinkedLibraries {
    public static var openSSL: String { String(cString: OpenSSL_version(OPENSSL_VERSION)) }
    public static var libyaml: String { LibYAML.version }
}
