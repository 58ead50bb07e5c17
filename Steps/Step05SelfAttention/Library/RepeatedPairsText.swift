import Tensor

/// A made-up text that only a model able to look back can predict: runs of one pair of letters
/// repeated, as in "cecececebcbcbcbc…".
///
/// Each run is 8 letters, a pair of different letters from "abcdefgh" repeated 4 times, and each
/// run's pair is drawn at random. Inside a run every letter equals the letter two places before
/// it. The current letter alone reveals only that the next one is different, so it can be any of
/// the other 7, and a model that reads one position at a time cannot get below a loss of about
/// ln 7 ≈ 1.95.
public enum RepeatedPairsText {
    /// The letters the pairs are drawn from.
    public static let alphabet: [Unicode.Scalar] = ["a", "b", "c", "d", "e", "f", "g", "h"]
    /// The letters in one run of a pair.
    public static let runLength = 8

    /// Returns the first `length` letters of the text drawn from `seed`.
    public static func make(length: Int, seed: UInt64 = 1) -> String {
        precondition(length >= 0, "RepeatedPairsText.make: length must be at least 0, got \(length)")
        var generator = SeededGenerator(seed: seed)
        var view = String.UnicodeScalarView()
        var count = 0
        while count < length {
            let first = generator.nextInt(below: alphabet.count)
            // Drawing from the other 7 letters and skipping over `first` keeps the pair's letters different.
            var second = generator.nextInt(below: alphabet.count - 1)
            if second >= first { second += 1 }
            for index in 0..<min(runLength, length - count) {
                view.append(alphabet[index % 2 == 0 ? first : second])
                count += 1
            }
        }
        return String(view)
    }
}
