import Foundation
import MLPStep

extension TokenizedCorpus {
    /// The entropy H(next) of the training ids' frequencies, in nats: the lowest mean training loss
    /// of a model that ignores its input and predicts how often each token occurs.
    ///
    /// A stack that loses track of its input, such as one without residual connections whose lower
    /// layers stop learning, stalls at this loss.
    public var unigramEntropy: Double {
        var counts = [Int](repeating: 0, count: vocabSize)
        for id in dataset.train { counts[id] += 1 }
        let total = Double(dataset.train.count)
        return counts.reduce(0.0) { entropy, count in
            guard count > 0 else { return entropy }
            let probability = Double(count) / total
            return entropy - probability * Foundation.log(probability)
        }
    }
}
