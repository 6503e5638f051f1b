/// The neighbour lists of a spatial weights matrix with binary weights, in compressed sparse row
/// form: one array of offsets and one of neighbour slots. A country-sized grid has millions of
/// cells; an array per cell (a heap object each) cost ~70 bytes a cell and a pointer chase per
/// lookup, this costs 4 bytes a cell plus 4 a neighbour.
public struct Neighbours: Sendable, RandomAccessCollection, ExpressibleByArrayLiteral, Equatable {
    /// Cell i's neighbours are `targets[offsets[i] ..< offsets[i + 1]]`.
    public let offsets: [Int32]
    public let targets: [Int32]

    public init(offsets: [Int32], targets: [Int32]) {
        precondition(offsets.first == 0 && Int(offsets.last ?? 0) == targets.count, "offsets must run from 0 to targets.count")
        self.offsets = offsets
        self.targets = targets
    }

    public init(_ lists: [[Int32]]) {
        var offsets = [Int32](), targets = [Int32]()
        offsets.reserveCapacity(lists.count + 1)
        offsets.append(0)
        for list in lists { targets += list; offsets.append(Int32(targets.count)) }
        self.init(offsets: offsets, targets: targets)
    }

    public init(arrayLiteral lists: [Int32]...) { self.init(lists) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { offsets.count - 1 }
    public subscript(i: Int) -> ArraySlice<Int32> { targets[Int(offsets[i])..<Int(offsets[i + 1])] }

    /// How many neighbours cell i has (itself not counted).
    public func degree(_ i: Int) -> Int { Int(offsets[i + 1] - offsets[i]) }

    /// Smallest and largest degree.
    public var degreeRange: (min: Int, max: Int) {
        var (lo, hi) = (Int.max, 0)
        for i in indices { let d = degree(i); lo = Swift.min(lo, d); hi = Swift.max(hi, d) }
        return isEmpty ? (0, 0) : (lo, hi)
    }

    /// x_i + Σ_{j neighbour of i} x_j for every cell: the local sums of Gi* (self included).
    public func localSums<T: BinaryFloatingPoint>(_ x: [T]) -> [Double] {
        precondition(x.count == count, "one value per cell")
        return offsets.withUnsafeBufferPointer { o in
            targets.withUnsafeBufferPointer { t in
                x.withUnsafeBufferPointer { v in
                    [Double](unsafeUninitializedCapacity: v.count) { out, initialized in
                        for i in 0..<v.count {
                            var sum = Double(v[i])
                            for k in Int(o[i])..<Int(o[i + 1]) { sum += Double(v[Int(t[k])]) }
                            out[i] = sum
                        }
                        initialized = v.count
                    }
                }
            }
        }
    }

    /// share_i + Σ_{j neighbour of i} share_j, divided by `total`.
    public func neighbourhoodShares(_ share: [Double], total: Double) -> [Double] {
        localSums(share).map { $0 / total }
    }
}
