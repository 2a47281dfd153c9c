package sdr

// prefetchLabels asks the CPU to start loading the labels of a node's first degree parents (base parents from
// cur, expander parents from prev) into the cache, so that gathering that node a few nodes later does not wait
// for memory. It only hints: it never faults and changes no data.
//
//go:noescape
func prefetchLabels(parents *[TotalParents]uint32, cur, prev *byte, degree int)
