package sdr

import "time"

// napShare is the share of the labeler's expected time to reach a node that a helper waiting for it sleeps
// at once; it then looks again, so a nap that was too short costs one more look and none is too long by much.
const napShare = 0.75

// minPaceNodes is how many nodes a pacer must have seen labelled before it trusts its measure of the
// labeler's pace (the labeler publishes its progress once per chunk).
const minPaceNodes = 4 * firstChunkNodes

// pacer tells a helper that polls the labeler's progress (the gatherer, a layer writer) how long to sleep
// before it looks again: each look wakes the helper's core, and a machine that wakes often lost more of the
// labeler's CPU to the hypervisor and to interrupts (docs/bench/pc1.md). The zero value is ready: its first
// nap starts the measure.
type pacer struct {
	from  time.Time // the first nap
	nodes uint64    // the nodes labelled then
}

// nap returns how long to sleep at now, with labelled nodes labelled, for the labeler to reach node need:
// napShare of the time that takes at the pace the labeler has kept since the first nap, within [least,
// most]; least until the pace is known or when need is reached.
func (p *pacer) nap(labelled, need uint64, now time.Time, least, most time.Duration) time.Duration {
	if p.from.IsZero() {
		p.from, p.nodes = now, labelled
		return least
	}
	done := labelled - p.nodes
	if done < minPaceNodes || need <= labelled {
		return least
	}
	perNode := float64(now.Sub(p.from)) / float64(done)
	return min(max(time.Duration(perNode*float64(need-labelled)*napShare), least), most)
}
