package sdr

// copyLabels14 fills the 37 parent positions of a layer >= 2 message from all 14 parents' labels (base parents
// from cur, expander parents from prev). Every parent index must be below the layer's node count.
//
//go:noescape
func copyLabels14(body *[labelRepeats][NodeSize]byte, parents *[TotalParents]uint32, cur, prev *byte)

// copyLabels6 fills the 37 parent positions of a layer 1 message from the 6 base parents' labels in cur.
//
//go:noescape
func copyLabels6(body *[labelRepeats][NodeSize]byte, parents *[TotalParents]uint32, cur *byte)
