// Package pipeline is sealfleet's sector state machine: it takes a sector from its pieces (a pledge or deal
// data) through PreCommit1, PreCommit2, the seed, Commit1, Commit2, Finalize and MoveStorage to Proving, by
// calling a Sealer (the manager). Every transition is persisted in SQL with an event, so a restarted pipeline
// resumes each sector by re-issuing its current state's call with the same parameters. Failed steps are
// retried with exponential backoff up to Config.MaxRetries; operators can move a sector to any state whose
// inputs it has, or remove it.
//
// There is no chain: the ticket and the seed come from a local randomness source, the seed after
// Config.WaitSeedDelay. Nothing is pre-committed or proven on chain.
package pipeline

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/db"
)

// Option adjusts a Pipeline at construction.
type Option func(*Pipeline)

// WithReader sets the Reader that ReadPiece and Unseal use (without one they return an error).
func WithReader(r Reader) Option { return func(p *Pipeline) { p.reader = r } }

// WithRand sets the randomness source of tickets and seeds (default crypto/rand).
func WithRand(r io.Reader) Option { return func(p *Pipeline) { p.rand = r } }

// WithLogger sets the logger (default slog.Default() with component=pipeline).
func WithLogger(l *slog.Logger) Option { return func(p *Pipeline) { p.log = l } }

// Pipeline drives sectors through the sealing states. Create it with New, start it with Run.
type Pipeline struct {
	cfg    Config
	db     *db.DB
	st     store
	sealer Sealer
	pieces PieceStore
	reader Reader
	clock  Clock
	rand   io.Reader
	log    *slog.Logger

	opMu      sync.Mutex // serialises operator actions (UpdateState, Remove)
	mu        sync.Mutex
	mem       map[abi.SectorNumber]memSector // light view of every sector, for Counts and slot accounting
	runners   map[abi.SectorNumber]*runner
	slotFreed chan struct{} // closed (and replaced) whenever a state changes: slot waiters re-check
	subs      map[int]chan StateChange
	nextSub   int
	runCtx    context.Context // set while Run runs
	wg        sync.WaitGroup
}

// memSector is what the pipeline keeps in memory about a sector.
type memSector struct {
	state   SectorState
	planned bool   // Packing with its fillers planned: holds a sealing slot
	gen     uint64 // bumped by operator actions; a runner's commits must carry the current gen
}

// runner is the goroutine that drives one sector.
type runner struct {
	gen    uint64
	cancel context.CancelFunc
	done   chan struct{}
	wake   chan struct{} // buffered(1): new pieces arrived
}

// New opens the pipeline on d, applying its migrations. It does not start sealing: call Run. One Pipeline owns
// the pipeline tables of a database: two running on the same database would drive the same sectors twice.
func New(cfg Config, d *db.DB, sealer Sealer, pieces PieceStore, clock Clock, opts ...Option) (*Pipeline, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d == nil || sealer == nil || pieces == nil || clock == nil {
		return nil, errors.New("pipeline: db, sealer, piece store and clock are required")
	}
	p := &Pipeline{
		cfg: cfg, db: d, st: store{db: d}, sealer: sealer, pieces: pieces, clock: clock, rand: rand.Reader,
		log: slog.Default().With("component", "pipeline"), mem: map[abi.SectorNumber]memSector{},
		runners: map[abi.SectorNumber]*runner{}, slotFreed: make(chan struct{}), subs: map[int]chan StateChange{},
	}
	for _, o := range opts {
		o(p)
	}
	ctx := context.Background()
	if err := d.Migrate(ctx, "pipeline", migrations(d.Dialect)); err != nil {
		return nil, fmt.Errorf("pipeline schema: %w", err)
	}
	secs, err := p.st.list(ctx, d)
	if err != nil {
		return nil, err
	}
	for _, s := range secs {
		p.mem[s.Number] = memSector{state: s.State, planned: p.planned(&s.SectorInfo)}
	}
	return p, nil
}

// Run drives every unfinished sector, and sectors created later, until ctx is cancelled; it returns once every
// sector goroutine has stopped (their running calls cancelled, their states as last persisted).
func (p *Pipeline) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.runCtx != nil {
		p.mu.Unlock()
		return errors.New("pipeline: Run called twice")
	}
	p.runCtx = ctx
	nums := make([]abi.SectorNumber, 0, len(p.mem))
	for n, m := range p.mem {
		if !m.state.Terminal() {
			nums = append(nums, n)
		}
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
	for _, n := range nums {
		p.startLocked(n)
	}
	p.mu.Unlock()
	p.releaseAddedPieces(ctx)

	<-ctx.Done()
	p.wg.Wait()
	p.mu.Lock()
	for _, ch := range p.subs {
		close(ch)
	}
	p.subs = map[int]chan StateChange{}
	p.mu.Unlock()
	return nil
}

// startLocked starts the goroutine of sector n if Run is active and none runs. p.mu must be held.
func (p *Pipeline) startLocked(n abi.SectorNumber) {
	if p.runCtx == nil || p.runCtx.Err() != nil {
		return
	}
	if _, ok := p.runners[n]; ok {
		return
	}
	ctx, cancel := context.WithCancel(p.runCtx)
	r := &runner{gen: p.mem[n].gen, cancel: cancel, done: make(chan struct{}), wake: make(chan struct{}, 1)}
	p.runners[n] = r
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer cancel()
		p.runSector(ctx, n, r)
		p.mu.Lock()
		if p.runners[n] == r {
			delete(p.runners, n)
		}
		p.mu.Unlock()
		close(r.done)
	}()
}

// stopRunner bumps the sector's generation (so the running goroutine can commit nothing more), cancels the
// goroutine and waits for it to stop. It must be called without p.mu.
func (p *Pipeline) stopRunner(n abi.SectorNumber) {
	p.mu.Lock()
	m := p.mem[n]
	m.gen++
	p.mem[n] = m
	r := p.runners[n]
	delete(p.runners, n)
	p.mu.Unlock()
	if r != nil {
		r.cancel()
		<-r.done
	}
}

// wakeLocked nudges sector n's goroutine (new pieces to add). p.mu must be held.
func (p *Pipeline) wakeLocked(n abi.SectorNumber) {
	if r := p.runners[n]; r != nil {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// Subscribe returns a channel that receives every state change from now on, and a func to unsubscribe. Sends
// never block the pipeline: a subscriber that falls more than 256 changes behind misses changes (it can re-read
// List). The channel is closed by the unsubscribe func or when Run returns.
func (p *Pipeline) Subscribe() (<-chan StateChange, func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ch := make(chan StateChange, 256)
	id := p.nextSub
	p.nextSub++
	p.subs[id] = ch
	return ch, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if c, ok := p.subs[id]; ok {
			delete(p.subs, id)
			close(c)
		}
	}
}

// Counts returns how many sectors are in each state (states with none are absent).
func (p *Pipeline) Counts() map[SectorState]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[SectorState]int{}
	for _, m := range p.mem {
		out[m.state]++
	}
	return out
}

// List returns every sector, by number, without the opaque PC1/C1 outputs and the pieces' fetch headers.
func (p *Pipeline) List(ctx context.Context) ([]SectorInfo, error) {
	secs, err := p.st.list(ctx, p.db)
	if err != nil {
		return nil, err
	}
	out := make([]SectorInfo, len(secs))
	for i, s := range secs {
		out[i] = public(s)
	}
	return out, nil
}

// public returns the SectorInfo callers see: GaveUp filled in, and the pieces' fetch headers (which may carry a
// worker token) left out.
func public(s *sector) SectorInfo {
	info := s.SectorInfo
	info.GaveUp = s.State.Failed() && s.NextRetry.IsZero()
	info.Pieces = make([]Piece, len(s.Pieces))
	for i, pc := range s.Pieces {
		pc.Data.Headers = nil
		info.Pieces[i] = pc
	}
	return info
}

// Status returns one sector (piece fetch headers left out); an unknown number is ErrUnknownSector.
func (p *Pipeline) Status(ctx context.Context, n abi.SectorNumber) (SectorInfo, error) {
	s, err := p.st.load(ctx, p.db, n, false)
	if err != nil {
		return SectorInfo{}, err
	}
	return public(s), nil
}

// Events returns sector n's log, oldest first; an unknown number is ErrUnknownSector.
func (p *Pipeline) Events(ctx context.Context, n abi.SectorNumber) ([]Event, error) {
	if _, err := p.st.load(ctx, p.db, n, false); err != nil {
		return nil, err
	}
	return p.st.events(ctx, p.db, n)
}
