package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commcid "github.com/filecoin-project/go-fil-commcid"
	"github.com/filecoin-project/go-jsonrpc"
	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/api"
	"sealfleet/db"
	"sealfleet/pipeline"
	"sealfleet/seal/commp"
	"sealfleet/storiface"
)

// instantSealer is a pipeline.Sealer that answers at once with consistent commitments (zero pieces get the zero
// commitment, CommD follows from the pieces) and fake proofs. For CLI tests only.
type instantSealer struct{}

func (instantSealer) AddPiece(_ context.Context, _ storiface.SectorRef, _ []abi.UnpaddedPieceSize, size abi.UnpaddedPieceSize, data storiface.PieceData) (abi.PieceInfo, error) {
	if data.IsZero() {
		return commp.ZeroPiece(size.Padded())
	}
	h := sha256.Sum256([]byte(data.URL))
	h[31] &= 0x3f
	c, err := commcid.DataCommitmentV1ToCID(h[:])
	return abi.PieceInfo{Size: size.Padded(), PieceCID: c}, err
}

func (instantSealer) SealPreCommit1(_ context.Context, s storiface.SectorRef, _ abi.SealRandomness, pieces []abi.PieceInfo) (storiface.PreCommit1Out, error) {
	return json.Marshal(pieces)
}

func (instantSealer) SealPreCommit2(_ context.Context, s storiface.SectorRef, pc1o storiface.PreCommit1Out) (storiface.SectorCids, error) {
	var pieces []abi.PieceInfo
	if err := json.Unmarshal(pc1o, &pieces); err != nil {
		return storiface.SectorCids{}, err
	}
	ssize, _ := s.ProofType.SectorSize()
	d, err := commp.UnsealedCID(ssize, pieces)
	if err != nil {
		return storiface.SectorCids{}, err
	}
	h := sha256.Sum256(pc1o)
	h[31] &= 0x3f
	r, err := commcid.ReplicaCommitmentV1ToCID(h[:])
	return storiface.SectorCids{Unsealed: d, Sealed: r}, err
}

func (instantSealer) SealCommit1(context.Context, storiface.SectorRef, abi.SealRandomness, abi.InteractiveSealRandomness, []abi.PieceInfo, storiface.SectorCids) (storiface.Commit1Out, error) {
	return []byte("c1"), nil
}

func (instantSealer) SealCommit2(context.Context, storiface.SectorRef, storiface.Commit1Out) (storiface.Proof, error) {
	return []byte("proof"), nil
}

func (instantSealer) FinalizeSector(context.Context, storiface.SectorRef) error { return nil }

func (instantSealer) MoveStorage(context.Context, storiface.SectorRef, storiface.SectorFileType) error {
	return nil
}

func (instantSealer) Remove(context.Context, storiface.SectorRef) error { return nil }

// TestSectorsCommandsEndToEnd runs the sectors commands against a real pipeline served on loopback the way the
// manager serves it (JSON-RPC with pipeline.RPC, pipeline.Handler for piece bytes).
func TestSectorsCommandsEndToEnd(t *testing.T) {
	d, err := db.OpenSQLite(filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	cfg := pipeline.DefaultConfig()
	cfg.WaitSeedDelay, cfg.WaitDealsDelay = 0, 0
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	pieces, err := pipeline.NewDirPieceStore(t.TempDir(), srv.URL+"/piece-data", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(cfg, d, instantSealer{}, pieces, pipeline.SystemClock{},
		pipeline.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- p.Run(ctx) }()
	defer func() { // before the DB closes
		cancel()
		if err := <-stopped; err != nil {
			t.Error(err)
		}
	}()
	rpc := jsonrpc.NewServer()
	rpc.Register(api.Namespace, pipeline.RPC{P: p})
	mux.Handle(api.RPCPath, rpc)
	h := pipeline.Handler(p, func(*http.Request, string) error { return nil })
	mux.Handle(pipeline.PiecesPath, h)
	mux.Handle(pipeline.PiecesPath+"/", h)
	t.Setenv(api.EnvAPIInfo, ":"+srv.URL)

	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		app := newApp()
		app.Writer, app.ErrWriter = &out, io.Discard
		err := app.RunContext(ctx, append([]string{"sealfleet", "sectors"}, args...))
		return out.String(), err
	}
	file := filepath.Join(t.TempDir(), "deal.bin")
	if err := os.WriteFile(file, bytes.Repeat([]byte{7}, 300), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		want    string
		wantErr string
	}{
		{"pledge", []string{"pledge"}, "pledged sector 0", ""},
		{"add-piece", []string{"add-piece", file}, "sector 1 offset 0 size 508 (payload 300 bytes)", ""},
		{"add-piece missing file", []string{"add-piece", file + ".none"}, "", "no such file"},
		{"list", []string{"list"}, "SECTOR", ""},
		{"status", []string{"status", "--log", "0"}, "pledge", ""},
		{"status unknown", []string{"status", "9"}, "", "unknown sector"},
		{"status bad number", []string{"status", "x"}, "", `sector number "x"`},
		{"update-state bad name", []string{"update-state", "0", "Sealing"}, "", "accepted are"},
		{"read without reader", []string{"read", "0", "0", "127"}, "", "no piece reader"},
		{"remove", []string{"remove", "1"}, "removing sector 1", ""},
		{"remove unknown", []string{"remove", "9"}, "", "unknown sector"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(tc.args...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, tc.want) {
				t.Fatalf("output %q lacks %q", out, tc.want)
			}
		})
	}
}
