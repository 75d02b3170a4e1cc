/// Bounds on what a tokenizer.json may make the loader allocate. The id → token table has one
/// slot per id up to the largest, so ids are capped: 2^24 (16.7 M) is 64 times the largest
/// vocabulary in use (256 k) and costs at most 256 MB of table.
public enum TokenizerLimits {
    public static let maxTokenID = 1 << 24
}
