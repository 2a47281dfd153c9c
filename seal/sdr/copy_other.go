//go:build !amd64

package sdr

import "unsafe"

// copyLabels14 fills the 37 parent positions of a layer >= 2 message from all 14 parents' labels (base parents
// from cur, expander parents from prev).
func copyLabels14(body *[labelRepeats][NodeSize]byte, parents *[TotalParents]uint32, cur, prev *byte) {
	for j := range body {
		i := j % TotalParents
		src := cur
		if i >= BaseDegree {
			src = prev
		}
		body[j] = *(*[NodeSize]byte)(unsafe.Add(unsafe.Pointer(src), uintptr(parents[i])*NodeSize))
	}
}

// copyLabels6 fills the 37 parent positions of a layer 1 message from the 6 base parents' labels in cur.
func copyLabels6(body *[labelRepeats][NodeSize]byte, parents *[TotalParents]uint32, cur *byte) {
	for j := range body {
		body[j] = *(*[NodeSize]byte)(unsafe.Add(unsafe.Pointer(cur), uintptr(parents[j%BaseDegree])*NodeSize))
	}
}
