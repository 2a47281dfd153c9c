package web

import (
	"fmt"
	"slices"
	"sort"
	"sync"
)

// SectorIndex holds every sector's current state indexed for the dashboard: per state, ordered by number, so
// that counts are free and any page — the first or the thousandth — costs the same. A Source adapter fills it
// from the pipeline's list at start and keeps it current from the pipeline's change subscription, then answers
// Source.SectorCounts and Source.Sectors from it. It is safe for concurrent use.
type SectorIndex struct {
	mu      sync.Mutex
	order   []string // display order of the states
	sectors map[string]*Sector
	all     []*Sector            // ascending (Number, ID)
	byState map[string][]*Sector // ascending (Number, ID)
}

// NewSectorIndex returns an empty index that lists states in the given order; states not listed are appended
// when first seen.
func NewSectorIndex(stateOrder ...string) *SectorIndex {
	return &SectorIndex{order: slices.Clone(stateOrder), sectors: map[string]*Sector{}, byState: map[string][]*Sector{}}
}

// Set inserts a sector or moves it to its new state, and returns the state it was in ("" if it is new). An
// empty ID or state is an error.
func (x *SectorIndex) Set(s Sector) (from string, err error) {
	if s.ID == "" || s.State == "" {
		return "", fmt.Errorf("sector index: sector %q with state %q: ID and state must not be empty", s.ID, s.State)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	p, ok := x.sectors[s.ID]
	if ok {
		from = p.State
		x.byState[from] = removeSector(x.byState[from], p)
		if p.Number != s.Number { // renumbered: re-place in the full list too
			x.all = removeSector(x.all, p)
			*p = s
			x.all = insertSector(x.all, p)
		}
		*p = s
	} else {
		p = &s
		x.sectors[s.ID] = p
		x.all = insertSector(x.all, p)
	}
	if !slices.Contains(x.order, s.State) {
		x.order = append(x.order, s.State)
	}
	x.byState[s.State] = insertSector(x.byState[s.State], p)
	return from, nil
}

// Remove drops a sector and reports whether it was there.
func (x *SectorIndex) Remove(id string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	p, ok := x.sectors[id]
	if !ok {
		return false
	}
	delete(x.sectors, id)
	x.all = removeSector(x.all, p)
	x.byState[p.State] = removeSector(x.byState[p.State], p)
	return true
}

// Get returns a sector by ID.
func (x *SectorIndex) Get(id string) (Sector, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	p, ok := x.sectors[id]
	if !ok {
		return Sector{}, false
	}
	return *p, true
}

// Len returns the number of sectors.
func (x *SectorIndex) Len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.sectors)
}

// Counts returns the number of sectors per state in display order, zero counts included.
func (x *SectorIndex) Counts() []StateCount {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := make([]StateCount, 0, len(x.order))
	for _, st := range x.order {
		out = append(out, StateCount{State: st, Count: len(x.byState[st])})
	}
	return out
}

// Page returns one page of sectors, newest (highest number) first, optionally of one state.
func (x *SectorIndex) Page(q SectorQuery) SectorPage {
	x.mu.Lock()
	defer x.mu.Unlock()
	list := x.all
	if q.State != "" {
		list = x.byState[q.State]
	}
	page := SectorPage{Total: len(list), Sectors: []Sector{}}
	for i := len(list) - 1 - max(0, q.Offset); i >= 0 && (q.Limit <= 0 || len(page.Sectors) < q.Limit); i-- {
		page.Sectors = append(page.Sectors, *list[i])
	}
	return page
}

func sectorLess(a, b *Sector) bool {
	if a.Number != b.Number {
		return a.Number < b.Number
	}
	return a.ID < b.ID
}

func insertSector(s []*Sector, p *Sector) []*Sector {
	i := sort.Search(len(s), func(i int) bool { return sectorLess(p, s[i]) })
	return slices.Insert(s, i, p)
}

func removeSector(s []*Sector, p *Sector) []*Sector {
	i := sort.Search(len(s), func(i int) bool { return !sectorLess(s[i], p) })
	for ; i < len(s); i++ {
		if s[i] == p {
			return slices.Delete(s, i, i+1)
		}
	}
	return s
}
