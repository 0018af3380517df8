/// Which files in a config directory are network configs: libcni's ConfFiles, as both the
/// runtime (which loads the first in lexical order) and Multus read a directory.
public enum NetworkConfigFiles {
    /// libcni's extensions, in the order it lists them.
    public static let extensions = [".conf", ".conflist", ".json"]

    /// A name libcni would load: a .conf, .conflist or .json file that is not hidden.
    public static func isConfigFile(_ name: String) -> Bool {
        !name.hasPrefix(".") && extensions.contains { name.hasSuffix($0) }
    }
}
