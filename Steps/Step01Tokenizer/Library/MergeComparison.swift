/// A BPE merge written as the bytes of the two tokens it joins.
///
/// Ids of merged tokens depend on the order in which training learned them, so two tokenizers
/// trained on slightly different texts can give the same merge different ids. The bytes stay the same.
public struct ByteMerge: Hashable {
    /// The bytes of the first token of the pair.
    public let left: [UInt8]
    /// The bytes of the second token of the pair.
    public let right: [UInt8]

    /// Creates a merge from the bytes of its two tokens.
    public init(left: [UInt8], right: [UInt8]) {
        self.left = left
        self.right = right
    }

    /// The pair as printable labels, as in `e + ␣`.
    public var label: String {
        printableLabel(utf8: left) + " + " + printableLabel(utf8: right)
    }
}

extension BPETokenizer {
    /// The merges in training order, each as the bytes of its two tokens.
    public var byteMerges: [ByteMerge] {
        merges.map { merge in
            // Both ids are below the merge's own id, so they are in the vocabulary.
            ByteMerge(left: try! bytes(for: merge.left), right: try! bytes(for: merge.right))
        }
    }
}

/// The merges that two trainings of BPE have in common and the ones only one of them learned,
/// compared by their bytes, not by their ids.
public struct MergeComparison {
    /// Merges only the new tokenizer learned, in its training order.
    public let added: [ByteMerge]
    /// Merges only the old tokenizer learned, in its training order.
    public let dropped: [ByteMerge]
    /// The number of merges both tokenizers learned.
    public let sharedCount: Int
    /// The number of shared merges learned at another position of the order, which gives their
    /// tokens other ids.
    public let movedCount: Int

    /// Compares the merges of `old` with those of `new`.
    public init(old: BPETokenizer, new: BPETokenizer) {
        let oldMerges = old.byteMerges
        let newMerges = new.byteMerges
        let oldPositions = Dictionary(oldMerges.enumerated().map { ($1, $0) }, uniquingKeysWith: min)
        let newSet = Set(newMerges)

        // The lists follow the training order, never the order of a Set.
        added = newMerges.filter { oldPositions[$0] == nil }
        dropped = oldMerges.filter { !newSet.contains($0) }
        sharedCount = newMerges.count - added.count
        movedCount = newMerges.enumerated().filter { position, merge in
            oldPositions[merge].map { $0 != position } ?? false
        }.count
    }

    /// Whether both tokenizers learned the same merges in the same order, so every id is unchanged.
    public var isUnchanged: Bool { added.isEmpty && dropped.isEmpty && movedCount == 0 }
}
