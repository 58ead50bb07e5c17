import Tensor

/// Returns the cosine of the angle between two vectors, a·b / (‖a‖ ‖b‖): 1 for the same direction,
/// 0 for perpendicular vectors, −1 for opposite ones, and 0 when either vector is all zeros.
///
/// The sums run in `Double`, so the result does not depend on the order of a `Float` accumulation.
public func cosineSimilarity(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "cosineSimilarity: vectors of \(a.count) and \(b.count) values")
    var dot = 0.0, normA = 0.0, normB = 0.0
    for i in a.indices {
        dot += Double(a[i]) * Double(b[i])
        normA += Double(a[i]) * Double(a[i])
        normB += Double(b[i]) * Double(b[i])
    }
    guard normA > 0 && normB > 0 else { return 0 }
    return Float(dot / (normA.squareRoot() * normB.squareRoot()))
}

/// Returns the Euclidean length ‖v‖ of a vector.
public func euclideanNorm(_ v: [Float]) -> Float {
    Float(v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
}

/// A token id and its cosine similarity to another token's vector.
public struct SimilarToken: Equatable {
    /// The token id.
    public let id: Int
    /// The cosine similarity of its vector to the query vector.
    public let similarity: Float

    /// Creates an entry from an id and a similarity.
    public init(id: Int, similarity: Float) {
        self.id = id
        self.similarity = similarity
    }
}

/// Returns the `count` rows of `table` `[V, C]` whose cosine similarity to row `id` is highest,
/// most similar first, leaving out `id` itself and the ids in `excluding`. Ties keep the lower id first.
public func nearestTokens(to id: Int, in table: Tensor, count: Int, excluding: [Int] = []) -> [SimilarToken] {
    precondition(table.rank == 2, "nearestTokens: table must be [V, C], got \(table.shape)")
    let rows = table.shape[0], width = table.shape[1]
    precondition(id >= 0 && id < rows, "nearestTokens: id \(id) is outside 0..<\(rows)")
    func row(_ index: Int) -> [Float] { Array(table.data[(index * width)..<((index + 1) * width)]) }

    let query = row(id)
    var candidates: [SimilarToken] = []
    for other in 0..<rows where other != id && !excluding.contains(other) {
        candidates.append(SimilarToken(id: other, similarity: cosineSimilarity(query, row(other))))
    }
    candidates.sort { $0.similarity != $1.similarity ? $0.similarity > $1.similarity : $0.id < $1.id }
    return Array(candidates.prefix(count))
}

/// The mean and spread of the cosine similarities of a set of row pairs.
public struct CosineSummary: Equatable {
    /// The number of pairs.
    public let pairCount: Int
    /// The mean cosine similarity, 0 when there are no pairs.
    public let mean: Float
    /// The population standard deviation of the cosine similarities, 0 when there are no pairs.
    public let standardDeviation: Float

    /// Creates a summary from its three numbers.
    public init(pairCount: Int, mean: Float, standardDeviation: Float) {
        self.pairCount = pairCount
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    /// The standard error of the mean, standardDeviation / √pairCount: how far the mean of this
    /// many independent pairs typically lies from the value it estimates. 0 when there are no pairs.
    ///
    /// The pairwise cosines of independently drawn random rows are uncorrelated even where two
    /// pairs share a row, so the formula for independent samples applies to the untrained table.
    public var standardError: Float {
        pairCount > 0 ? standardDeviation / Float(pairCount).squareRoot() : 0
    }
}

/// Summarises the cosine similarity of every pair of rows i < j of `table` `[V, C]` whose id
/// distance j − i lies in `idDistances`.
///
/// Comparing the summary for distance 1 with the one for large distances shows whether ids that
/// are close have closer vectors, without depending on one lucky or unlucky pair.
public func cosineSummary(of table: Tensor, idDistances: ClosedRange<Int>) -> CosineSummary {
    precondition(table.rank == 2, "cosineSummary: table must be [V, C], got \(table.shape)")
    precondition(idDistances.lowerBound >= 1, "cosineSummary: id distances must be at least 1, got \(idDistances)")
    let rows = table.shape[0], width = table.shape[1]
    func row(_ index: Int) -> [Float] { Array(table.data[(index * width)..<((index + 1) * width)]) }

    var similarities: [Double] = []
    for i in 0..<rows {
        for j in (i + 1)..<rows where idDistances.contains(j - i) {
            similarities.append(Double(cosineSimilarity(row(i), row(j))))
        }
    }
    guard !similarities.isEmpty else { return CosineSummary(pairCount: 0, mean: 0, standardDeviation: 0) }
    let mean = similarities.reduce(0, +) / Double(similarities.count)
    let variance = similarities.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(similarities.count)
    return CosineSummary(pairCount: similarities.count, mean: Float(mean), standardDeviation: Float(variance.squareRoot()))
}
