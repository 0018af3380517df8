import COpenSSL

/// The OpenSSL linked in, for `multus --version`.
public enum LinkedOpenSSL {
    public static var version: String { String(cString: OpenSSL_version(OPENSSL_VERSION)) }
}
