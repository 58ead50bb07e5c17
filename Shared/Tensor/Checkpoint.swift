import Foundation

extension Module {
    /// Returns every parameter as a named array, in the order of `namedParameters`.
    public func parameterArrays() -> [NamedArray] {
        namedParameters.map { NamedArray(name: $0.name, shape: $0.tensor.shape, values: $0.tensor.data) }
    }

    /// Saves every parameter to a safetensors file, atomically (see `SafeTensors.write`).
    public func saveParameters(to url: URL, metadata: [String: String] = [:]) throws {
        try SafeTensors.write(parameterArrays(), metadata: metadata, to: url)
    }

    /// Copies values into the parameters from named arrays. Every parameter must be present with
    /// its exact shape, and no extra arrays may be left over; otherwise nothing is changed and the
    /// error names the first tensor that differs.
    public func loadParameterArrays(_ arrays: [NamedArray]) throws {
        var byName: [String: NamedArray] = [:]
        for array in arrays { byName[array.name] = array }
        let parameters = namedParameters
        for (name, tensor) in parameters {
            guard let array = byName[name] else {
                throw CheckpointError("the checkpoint has no tensor \"\(name)\", which this model needs; it was saved for a different model")
            }
            guard array.shape == tensor.shape else {
                throw CheckpointError("tensor \"\(name)\" has shape \(array.shape) in the checkpoint but \(tensor.shape) in this model; use the configuration the checkpoint was trained with")
            }
        }
        let expected = Set(parameters.map(\.name))
        if let extra = arrays.map(\.name).sorted().first(where: { !expected.contains($0) }) {
            throw CheckpointError("the checkpoint has a tensor \"\(extra)\" that this model does not have; it was saved for a different model")
        }
        for (name, tensor) in parameters {
            tensor.data = byName[name]!.values
        }
    }

    /// Loads parameters saved by `saveParameters(to:)`; see `loadParameterArrays(_:)` for the checks.
    /// - Returns: the file's metadata.
    @discardableResult
    public func loadParameters(from url: URL) throws -> [String: String] {
        let (arrays, metadata) = try SafeTensors.read(from: url)
        try loadParameterArrays(arrays)
        return metadata
    }
}
