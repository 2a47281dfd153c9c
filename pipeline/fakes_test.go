package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	commcid "github.com/filecoin-project/go-fil-commcid"
	"github.com/filecoin-project/go-state-types/abi"
	"github.com/ipfs/go-cid"

	"sealfleet/seal/commp"
	"sealfleet/storiface"
)

// testTimeout bounds every wait in these tests; it only turns a hang into a failure, it never synchronises.
const testTimeout = 20 * time.Second

// fakeClock is a manual clock for tests: time moves only when Advance is called.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
	added   chan struct{} // buffered(1): a waiter was registered
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, added: make(chan struct{}, 1)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{at: c.now.Add(d), ch: ch})
	select {
	case c.added <- struct{}{}:
	default:
	}
	return ch
}

// Advance moves time forward by d and fires every waiter due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	keep := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			keep = append(keep, w)
		}
	}
	c.waiters = keep
}

// AdvanceToNext moves time to the earliest pending waiter, if any, and fires it.
func (c *fakeClock) AdvanceToNext() {
	c.mu.Lock()
	if len(c.waiters) == 0 {
		c.mu.Unlock()
		return
	}
	next := c.waiters[0].at
	for _, w := range c.waiters {
		if w.at.Before(next) {
			next = w.at
		}
	}
	d := next.Sub(c.now)
	c.mu.Unlock()
	c.Advance(d)
}

// pendingUntil reports whether a waiter is registered for exactly at.
func (c *fakeClock) pendingAt(at time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range c.waiters {
		if w.at.Equal(at) {
			return true
		}
	}
	return false
}

// waitPendingAt blocks until a waiter for at is registered.
func (c *fakeClock) waitPendingAt(t *testing.T, at time.Time) {
	t.Helper()
	deadline := time.After(testTimeout)
	for !c.pendingAt(at) {
		select {
		case <-c.added:
		case <-deadline:
			t.Fatalf("no timer registered for %s", at)
		}
	}
}

var _ Clock = (*fakeClock)(nil)

// sealCall is one call the fake sealer received, with its parameters rendered as text for comparison.
type sealCall struct {
	Method string
	Sector abi.SectorNumber
	Args   string
}

// fakeSealer implements Sealer deterministically, in memory. Tests can make a method block until released
// or its ctx is cancelled (gate), or fail a number of times.
type fakeSealer struct {
	mu       sync.Mutex
	calls    []sealCall
	log      []string // "start M n", "end M n: err"
	gates    map[string]chan struct{}
	failures map[string]int
	failErr  error
	started  chan sealCall
	client   *http.Client
	failIf   func(c sealCall, nth int) bool // nth counts calls of the method, from 1
	// corruptCommD makes PreCommit2 return a CommD that does not match the pieces.
	corruptCommD bool
	// corruptZero makes AddPiece of a zero piece return a CID that is not the zero commitment.
	corruptZero bool
	pieces      map[string][]byte // data URL -> bytes fetched
	// beforeAddPieceReturns, if set, runs when an AddPiece call has its result, just before it returns it.
	beforeAddPieceReturns func(ctx context.Context)
}

func newFakeSealer() *fakeSealer {
	return &fakeSealer{gates: map[string]chan struct{}{}, failures: map[string]int{},
		failErr: errors.New("injected failure"), started: make(chan sealCall, 1024), client: http.DefaultClient,
		pieces: map[string][]byte{}}
}

// gate makes method block until the returned func is called (or ctx is cancelled).
func (f *fakeSealer) gate(method string) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan struct{})
	f.gates[method] = ch
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			delete(f.gates, method)
			f.mu.Unlock()
			close(ch)
		})
	}
}

func (f *fakeSealer) fail(method string, times int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures[method] = times
	if err != nil {
		f.failErr = err
	}
}

func (f *fakeSealer) callsOf(method string) []sealCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sealCall
	for _, c := range f.calls {
		if c.Method == method || method == "" {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeSealer) logLines() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

// enter records a call and applies its gate and failure injection.
func (f *fakeSealer) enter(ctx context.Context, method string, n abi.SectorNumber, args string) (err error) {
	c := sealCall{Method: method, Sector: n, Args: args}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.log = append(f.log, fmt.Sprintf("start %s %d", method, n))
	gate := f.gates[method]
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.log = append(f.log, fmt.Sprintf("end %s %d: %v", method, n, err))
		f.mu.Unlock()
	}()
	f.started <- c
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failures[method] > 0 {
		f.failures[method]--
		return f.failErr
	}
	if f.failIf != nil {
		nth := 0
		for _, prev := range f.calls {
			if prev.Method == method {
				nth++
			}
		}
		if f.failIf(c, nth) {
			return f.failErr
		}
	}
	return nil
}

// waitCall blocks until the fake sealer starts a call of method (other calls are skipped).
func (f *fakeSealer) waitCall(t *testing.T, method string) sealCall {
	t.Helper()
	deadline := time.After(testTimeout)
	for {
		select {
		case c := <-f.started:
			if c.Method == method {
				return c
			}
		case <-deadline:
			t.Fatalf("sealer call %s never started", method)
		}
	}
}

func digest(parts ...any) []byte {
	h := sha256.Sum256([]byte(fmt.Sprint(parts...)))
	h[31] &= 0x3f
	return h[:]
}

func (f *fakeSealer) AddPiece(ctx context.Context, s storiface.SectorRef, existing []abi.UnpaddedPieceSize, size abi.UnpaddedPieceSize, data storiface.PieceData) (abi.PieceInfo, error) {
	if err := f.enter(ctx, "AddPiece", s.ID.Number, fmt.Sprint(existing, size, data.URL)); err != nil {
		return abi.PieceInfo{}, err
	}
	payload := []byte(nil)
	if !data.IsZero() && !strings.HasPrefix(data.URL, "mem://") { // memPieceStore data is not served
		var err error
		if payload, err = f.fetch(ctx, data); err != nil {
			return abi.PieceInfo{}, err
		}
		if uint64(len(payload)) != uint64(size) {
			return abi.PieceInfo{}, fmt.Errorf("piece data has %d bytes, want %d", len(payload), size)
		}
	}
	if data.IsZero() && !f.corruptZero {
		return commp.ZeroPiece(size.Padded())
	}
	c, err := commcid.DataCommitmentV1ToCID(digest("piece", size, hex.EncodeToString(payload)))
	if f.beforeAddPieceReturns != nil {
		f.beforeAddPieceReturns(ctx)
	}
	return abi.PieceInfo{Size: size.Padded(), PieceCID: c}, err
}

func (f *fakeSealer) fetch(ctx context.Context, data storiface.PieceData) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, data.URL, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range data.Headers {
		req.Header.Set(k, v)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", data.URL, resp.Status)
	}
	b, err := io.ReadAll(resp.Body)
	if err == nil {
		f.mu.Lock()
		f.pieces[data.URL] = b
		f.mu.Unlock()
	}
	return b, err
}

func (f *fakeSealer) SealPreCommit1(ctx context.Context, s storiface.SectorRef, ticket abi.SealRandomness, pieces []abi.PieceInfo) (storiface.PreCommit1Out, error) {
	args := fmt.Sprint(hex.EncodeToString(ticket), pieces)
	if err := f.enter(ctx, "PreCommit1", s.ID.Number, args); err != nil {
		return nil, err
	}
	// The output carries the pieces so that PreCommit2 (possibly on a restarted fake) can compute CommD.
	return json.Marshal(fakePC1Out{Digest: digest("pc1", s.ID, args), Pieces: pieces, Proof: s.ProofType})
}

type fakePC1Out struct {
	Digest []byte
	Pieces []abi.PieceInfo
	Proof  abi.RegisteredSealProof
}

func (f *fakeSealer) SealPreCommit2(ctx context.Context, s storiface.SectorRef, pc1o storiface.PreCommit1Out) (storiface.SectorCids, error) {
	if err := f.enter(ctx, "PreCommit2", s.ID.Number, hex.EncodeToString(pc1o)); err != nil {
		return storiface.SectorCids{}, err
	}
	var out fakePC1Out
	if err := json.Unmarshal(pc1o, &out); err != nil {
		return storiface.SectorCids{}, fmt.Errorf("decoding PC1 output: %w", err)
	}
	ssize, _ := out.Proof.SectorSize()
	d, err := commp.UnsealedCID(ssize, out.Pieces)
	if err != nil {
		return storiface.SectorCids{}, err
	}
	if f.corruptCommD {
		d, _ = commcid.DataCommitmentV1ToCID(digest("wrong", pc1o))
	}
	r, _ := commcid.ReplicaCommitmentV1ToCID(digest("r", pc1o))
	return storiface.SectorCids{Unsealed: d, Sealed: r}, nil
}

func (f *fakeSealer) SealCommit1(ctx context.Context, s storiface.SectorRef, ticket abi.SealRandomness, seed abi.InteractiveSealRandomness, pieces []abi.PieceInfo, cids storiface.SectorCids) (storiface.Commit1Out, error) {
	args := fmt.Sprint(hex.EncodeToString(ticket), hex.EncodeToString(seed), pieces, cids.Unsealed, cids.Sealed)
	if err := f.enter(ctx, "Commit1", s.ID.Number, args); err != nil {
		return nil, err
	}
	return digest("c1", args), nil
}

func (f *fakeSealer) SealCommit2(ctx context.Context, s storiface.SectorRef, c1o storiface.Commit1Out) (storiface.Proof, error) {
	if err := f.enter(ctx, "Commit2", s.ID.Number, hex.EncodeToString(c1o)); err != nil {
		return nil, err
	}
	return digest("proof", c1o), nil
}

func (f *fakeSealer) FinalizeSector(ctx context.Context, s storiface.SectorRef) error {
	return f.enter(ctx, "Finalize", s.ID.Number, s.String())
}

func (f *fakeSealer) MoveStorage(ctx context.Context, s storiface.SectorRef, types storiface.SectorFileType) error {
	return f.enter(ctx, "MoveStorage", s.ID.Number, types.String())
}

func (f *fakeSealer) Remove(ctx context.Context, s storiface.SectorRef) error {
	return f.enter(ctx, "Remove", s.ID.Number, s.String())
}

var _ Sealer = (*fakeSealer)(nil)

// memPieceStore is an in-memory PieceStore for tests that do not fetch piece bytes.
type memPieceStore struct {
	mu    sync.Mutex
	next  int
	files map[string][]byte
}

func newMemPieceStore() *memPieceStore { return &memPieceStore{files: map[string][]byte{}} }

func (m *memPieceStore) Put(_ context.Context, r io.Reader, size abi.UnpaddedPieceSize) (storiface.PieceData, func(), error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(size)))
	if err != nil {
		return storiface.PieceData{}, nil, err
	}
	if len(b) != int(size) {
		return storiface.PieceData{}, nil, io.ErrUnexpectedEOF
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	url := fmt.Sprintf("mem://%d", m.next)
	m.files[url] = b
	data := storiface.PieceData{URL: url}
	return data, func() { _ = m.Release(context.Background(), data) }, nil
}

func (m *memPieceStore) Release(_ context.Context, data storiface.PieceData) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.files, data.URL)
	return nil
}

func (m *memPieceStore) urls() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for u := range m.files {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

var _ PieceStore = (*memPieceStore)(nil)

// mustCID parses a CID or fails the test.
func mustCID(t *testing.T, s string) cid.Cid {
	t.Helper()
	c, err := cid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
