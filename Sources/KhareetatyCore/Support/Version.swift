/// The product's version, as `--version`, the ledger and the report show it.
public enum Khareetaty {
    public static let version = "0.1.0"
}
