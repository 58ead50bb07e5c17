/// A model or layer: a class whose stored properties hold its parameters and sub-layers.
///
/// Conforming needs no code. `namedParameters` finds every parameter by reflection: each stored
/// `Tensor` property that requires a gradient, each stored `Module` (recursively, names joined by
/// dots), and each array or optional of either, with array elements named by index
/// (`blocks.0.attention.query.weight`). A tensor reached twice, as with a tied head, is listed once,
/// under the first name found.
public protocol Module: AnyObject {}

extension Module {
    /// Every trainable tensor with its dotted name, in declaration order.
    public var namedParameters: [(name: String, tensor: Tensor)] {
        var found: [(name: String, tensor: Tensor)] = []
        var seen = Set<ObjectIdentifier>()
        collectParameters(of: self, prefix: "", into: &found, seen: &seen)
        return found
    }

    /// Every trainable tensor, in the order of `namedParameters`.
    public var parameters: [Tensor] {
        namedParameters.map(\.tensor)
    }

    /// The number of trainable values.
    public var parameterCount: Int {
        parameters.reduce(0) { $0 + $1.count }
    }

    /// Clears every parameter's gradient before the next backward pass.
    public func zeroGrad() {
        for parameter in parameters { parameter.zeroGrad() }
    }
}

private func collectParameters(
    of value: Any, prefix: String,
    into found: inout [(name: String, tensor: Tensor)], seen: inout Set<ObjectIdentifier>
) {
    var mirror: Mirror? = Mirror(reflecting: value)
    var levels: [Mirror] = []
    // Superclass properties come first, so names follow declaration order down the hierarchy.
    while let current = mirror {
        levels.insert(current, at: 0)
        mirror = current.superclassMirror
    }
    for level in levels {
        for child in level.children {
            guard let label = child.label else { continue }
            collectChild(child.value, name: prefix + label, into: &found, seen: &seen)
        }
    }
}

private func collectChild(
    _ value: Any, name: String,
    into found: inout [(name: String, tensor: Tensor)], seen: inout Set<ObjectIdentifier>
) {
    if let tensor = value as? Tensor {
        if tensor.requiresGrad, seen.insert(ObjectIdentifier(tensor)).inserted {
            found.append((name, tensor))
        }
    } else if let module = value as? Module {
        guard seen.insert(ObjectIdentifier(module)).inserted else { return }
        collectParameters(of: module, prefix: name + ".", into: &found, seen: &seen)
    } else {
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .collection?:
            for (index, element) in mirror.children.enumerated() {
                collectChild(element.value, name: "\(name).\(index)", into: &found, seen: &seen)
            }
        case .optional?:
            if let wrapped = mirror.children.first {
                collectChild(wrapped.value, name: name, into: &found, seen: &seen)
            }
        default:
            break
        }
    }
}
