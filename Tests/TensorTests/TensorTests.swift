import Testing
@testable import Tensor

@Test("probe") func probe() {
    let x = Tensor(shape: [2], data: [1, 2], requiresGrad: true)
    let y = x * 2
    #expect(y.parents.count == 1)
}
