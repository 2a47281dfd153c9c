package webtest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"sealfleet/web"
)

// Live keeps a demo cluster moving: new sectors arrive and in-flight ones run their tasks one after another
// through the pipeline states, with the sealing times divided by Speedup so that a demo shows movement. It is a
// fixture for demos, not a simulator of the real scheduler (see package sim for that).
type Live struct {
	m        *MemSource
	rng      *rand.Rand
	workers  []string
	next     uint64
	speedup  int
	inflight []*liveSector
}

type liveSector struct {
	id    string
	num   uint64
	stage int
	job   web.Job
	due   time.Time // when the current job ends
}

// NewLive returns a Live over a MemSource populated with Populate(m, d); new sectors are numbered after
// d.Sectors. speedup divides every task duration (60 makes a 3 h PC1 take 3 min).
func NewLive(m *MemSource, d Demo, speedup int) *Live {
	ids := make([]string, d.Workers)
	for i := range ids {
		ids[i] = fmt.Sprintf("w-%04d", i)
	}
	return &Live{m: m, rng: rand.New(rand.NewPCG(d.Seed+1, 7)), workers: ids, next: uint64(d.Sectors) + 1000,
		speedup: max(1, speedup)}
}

// Step advances the cluster to now: finishes due jobs, moves their sectors on and starts their next task, and
// sometimes adds a new sector.
func (l *Live) Step(now time.Time) {
	if len(l.workers) == 0 {
		return
	}
	if l.rng.IntN(3) == 0 {
		s := &liveSector{id: fmt.Sprintf("s-t01000-%d", l.next), num: l.next}
		l.next++
		l.m.SetSectorState(s.id, s.num, demoStages[0].state, "", now)
		l.start(s, now)
		l.inflight = append(l.inflight, s)
	}
	kept := l.inflight[:0]
	for _, s := range l.inflight {
		if now.Before(s.due) {
			kept = append(kept, s)
			continue
		}
		s.job.End = now
		l.m.PutJob(s.job)
		s.stage++
		if s.stage == len(demoStages) {
			l.m.SetSectorState(s.id, s.num, "Proving", "", now)
			continue
		}
		if st := demoStages[s.stage].state; st != demoStages[s.stage-1].state {
			l.m.SetSectorState(s.id, s.num, st, "", now)
		}
		l.start(s, now)
		kept = append(kept, s)
	}
	l.inflight = kept
}

// start queues and starts the sector's current task on a random worker.
func (l *Live) start(s *liveSector, now time.Time) {
	st := demoStages[s.stage]
	wait := time.Duration(l.rng.IntN(20)) * time.Second
	run := (st.dur + time.Duration(l.rng.IntN(600))*time.Second) / time.Duration(l.speedup)
	s.job = web.Job{ID: fmt.Sprintf("%s-%s", s.id, st.task), Task: st.task, Sector: s.id,
		Worker: l.workers[l.rng.IntN(len(l.workers))], Queued: now, Start: now.Add(wait)}
	s.due = s.job.Start.Add(run)
	l.m.PutJob(s.job)
}
