package native

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	commcid "github.com/filecoin-project/go-fil-commcid"
	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/seal/commp"
	"sealfleet/seal/porep"
	"sealfleet/seal/sdr"
	"sealfleet/storiface"
)

// pc1OutFormat versions PreCommit1Out; PC2 refuses outputs of another format.
const pc1OutFormat = "sealfleet-pc1/1"

// PreCommit1Out is what PC1 hands to PC2, serialised as JSON in storiface.PreCommit1Out.
type PreCommit1Out struct {
	Format    string                  `json:"format"`
	ProofType abi.RegisteredSealProof `json:"proofType"`
	Miner     abi.ActorID             `json:"miner"`
	Number    abi.SectorNumber        `json:"number"`
	Ticket    string                  `json:"ticket"`    // hex, 32 bytes
	CommD     string                  `json:"commD"`     // hex, 32 bytes: CommD computed from the pieces
	ReplicaID string                  `json:"replicaId"` // hex, 32 bytes
}

// DecodePreCommit1Out parses and checks PC1 output for a sector.
func DecodePreCommit1Out(b []byte, sector storiface.SectorRef) (PreCommit1Out, [32]byte, [32]byte, error) {
	var out PreCommit1Out
	var commD, replicaID [32]byte
	if err := json.Unmarshal(b, &out); err != nil {
		return out, commD, replicaID, fmt.Errorf("decoding PC1 output: %w", err)
	}
	if out.Format != pc1OutFormat {
		return out, commD, replicaID, fmt.Errorf("PC1 output format %q: want %q", out.Format, pc1OutFormat)
	}
	if out.ProofType != sector.ProofType || out.Miner != sector.ID.Miner || out.Number != sector.ID.Number {
		return out, commD, replicaID, fmt.Errorf("PC1 output is for sector t0%d-%d proof %d, not %s proof %d",
			out.Miner, out.Number, out.ProofType, sector, sector.ProofType)
	}
	var err error
	if commD, err = hex32("commD", out.CommD); err != nil {
		return out, commD, replicaID, err
	}
	if replicaID, err = hex32("replicaId", out.ReplicaID); err != nil {
		return out, commD, replicaID, err
	}
	return out, commD, replicaID, nil
}

func hex32(field, s string) ([32]byte, error) {
	var v [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return v, fmt.Errorf("%s: want 64 hex digits (32 bytes), got %q", field, s)
	}
	copy(v[:], b)
	return v, nil
}

// ticket32 checks a ticket or seed is 32 bytes.
func ticket32(field string, b []byte) ([32]byte, error) {
	var v [32]byte
	if len(b) != 32 {
		return v, fmt.Errorf("%s: want 32 bytes, got %d", field, len(b))
	}
	copy(v[:], b)
	return v, nil
}

// ReplicaIDFor derives a sector's replica ID from its ticket and CommD, as rust-fil-proofs does.
func ReplicaIDFor(sector storiface.SectorRef, ticket, commD [32]byte) ([32]byte, error) {
	porepID, err := sdr.PoRepID(sector.ProofType)
	if err != nil {
		return [32]byte{}, err
	}
	return sdr.ReplicaID(sdr.ProverID(sector.ID.Miner), sector.ID.Number, ticket, commD, porepID), nil
}

// SealPreCommit1 computes CommD from the pieces, derives the replica ID, copies the unsealed data to the sealed
// path (as rust-fil-proofs does; PC2 encodes it in place) and labels every SDR layer into the cache directory.
func (b *Backend) SealPreCommit1(ctx context.Context, sector storiface.SectorRef, paths storiface.SectorPaths, ticket abi.SealRandomness, pieces []abi.PieceInfo) (storiface.PreCommit1Out, error) {
	t, err := ticket32("ticket", ticket)
	if err != nil {
		return nil, err
	}
	ssize, err := sectorSize(sector)
	if err != nil {
		return nil, err
	}
	cfg, err := sdr.ConfigFor(sector.ProofType)
	if err != nil {
		return nil, err
	}
	if paths.Unsealed == "" || paths.Sealed == "" || paths.Cache == "" {
		return nil, fmt.Errorf("PC1 of %s needs unsealed, sealed and cache paths, got %+v", sector, paths)
	}
	commDCid, err := commp.UnsealedCID(ssize, pieces)
	if err != nil {
		return nil, fmt.Errorf("PC1 of %s: CommD of the pieces: %w", sector, err)
	}
	commDBytes, err := commcid.CIDToDataCommitmentV1(commDCid)
	if err != nil {
		return nil, err
	}
	var commD [32]byte
	copy(commD[:], commDBytes)
	replicaID, err := ReplicaIDFor(sector, t, commD)
	if err != nil {
		return nil, err
	}
	if err := removePC2Outputs(paths); err != nil {
		return nil, fmt.Errorf("PC1 of %s: %w", sector, err)
	}
	if err := copyData(paths.Unsealed, paths.Sealed, int64(ssize)); err != nil {
		return nil, fmt.Errorf("PC1 of %s: %w", sector, err)
	}
	if err := os.MkdirAll(paths.Cache, 0o755); err != nil {
		return nil, fmt.Errorf("PC1 of %s: creating cache dir: %w", sector, err)
	}
	pc, err := b.parentsCache(cfg)
	if err != nil {
		return nil, err
	}
	if err := sdr.Label(ctx, cfg, pc, replicaID, paths.Cache); err != nil {
		return nil, fmt.Errorf("PC1 of %s: labeling: %w", sector, err)
	}
	return json.Marshal(PreCommit1Out{
		Format: pc1OutFormat, ProofType: sector.ProofType, Miner: sector.ID.Miner, Number: sector.ID.Number,
		Ticket: hex.EncodeToString(t[:]), CommD: hex.EncodeToString(commD[:]), ReplicaID: hex.EncodeToString(replicaID[:]),
	})
}

// copyData copies the first n bytes (the padded sector data, without the allocation trailer) of src to dst
// through a temporary file and a rename.
func copyData(src, dst string, n int64) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("opening unsealed file: %w", err)
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("creating sealed file: %w", err)
	}
	if _, err := io.CopyN(out, in, n); err != nil {
		out.Close()
		os.Remove(tmp)
		return fmt.Errorf("copying unsealed data to the sealed file: %w", err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(tmp)
		return fmt.Errorf("syncing sealed file: %w", err)
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// SealPreCommit2 builds tree_d, tree_c and tree_r_last, encodes the replica in the sealed file and returns the
// CIDs. It fails if the data's CommD differs from the one PC1 computed from the pieces.
func (b *Backend) SealPreCommit2(ctx context.Context, sector storiface.SectorRef, paths storiface.SectorPaths, pc1o storiface.PreCommit1Out) (storiface.SectorCids, error) {
	_, wantD, replicaID, err := DecodePreCommit1Out(pc1o, sector)
	if err != nil {
		return storiface.SectorCids{}, storiface.Err(storiface.ErrBadInput, err)
	}
	cfg, err := sdr.ConfigFor(sector.ProofType)
	if err != nil {
		return storiface.SectorCids{}, err
	}
	if paths.Sealed == "" || paths.Cache == "" {
		return storiface.SectorCids{}, fmt.Errorf("PC2 of %s needs sealed and cache paths", sector)
	}
	commD, commR, err := b.preCommit2(ctx, cfg, paths, replicaID)
	if err != nil {
		return storiface.SectorCids{}, fmt.Errorf("PC2 of %s: %w", sector, err)
	}
	if commD != wantD {
		return storiface.SectorCids{}, fmt.Errorf("PC2 of %s: data CommD %x differs from the pieces' CommD %x", sector, commD, wantD)
	}
	unsealed, sealed, err := porep.CIDs(commD, commR)
	if err != nil {
		return storiface.SectorCids{}, err
	}
	return storiface.SectorCids{Unsealed: unsealed, Sealed: sealed}, nil
}

// replicaSuffix names the side file PC2 encodes the replica into before it replaces the data in the sealed file.
const replicaSuffix = ".replica"

// preCommit2 runs porep.PreCommit2 so that a re-run after a crash at any point gives the same result: the replica
// is written beside the sealed file (which still holds the data) and renamed over it only after p_aux is written.
// A re-run that finds p_aux and no side file knows the sealed file already is the replica and reads the
// commitments back from tree_d and p_aux instead of encoding the replica a second time.
func (b *Backend) preCommit2(ctx context.Context, cfg sdr.Config, paths storiface.SectorPaths, replicaID [32]byte) (commD, commR [32]byte, err error) {
	side := paths.Sealed + replicaSuffix
	if paux, err := porep.ReadPAux(paths.Cache); err == nil {
		if _, statErr := os.Stat(side); statErr == nil {
			if err := os.Rename(side, paths.Sealed); err != nil {
				return commD, commR, fmt.Errorf("finishing an interrupted PC2: %w", err)
			}
		}
		if commD, err = treeDRoot(paths.Cache); err == nil {
			commR, err = porep.ComposeCommR(paux.CommC, paux.CommRLast)
			b.log.Info("PC2 already complete; commitments read back from the cache", "cache", paths.Cache)
			return commD, commR, err
		}
	}
	commD, commR, err = porep.PreCommit2(ctx, cfg, paths.Cache, paths.Sealed, side, replicaID)
	if err != nil {
		os.Remove(side)
		return commD, commR, err
	}
	if err := os.Rename(side, paths.Sealed); err != nil {
		return commD, commR, fmt.Errorf("replacing the data with the replica: %w", err)
	}
	return commD, commR, nil
}

// treeDRoot reads comm_d, the last node of the tree_d file (DiskStore layout: every level, leaves first).
func treeDRoot(cacheDir string) ([32]byte, error) {
	var root [32]byte
	f, err := os.Open(porep.TreeDPath(cacheDir))
	if err != nil {
		return root, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return root, err
	}
	if st.Size() < 32 || st.Size()%32 != 0 {
		return root, fmt.Errorf("tree_d: size %d is not a whole number of nodes", st.Size())
	}
	if _, err := f.ReadAt(root[:], st.Size()-32); err != nil {
		return root, fmt.Errorf("reading tree_d root: %w", err)
	}
	return root, nil
}

// removePC2Outputs deletes what an earlier PC2 of the sector left (trees, p_aux, t_aux, a replica side file), so a
// PC1 re-run with another ticket can never be followed by a PC2 that trusts commitments of the old replica.
func removePC2Outputs(paths storiface.SectorPaths) error {
	matches, err := filepath.Glob(filepath.Join(paths.Cache, "sc-02-data-tree-*"))
	if err != nil {
		return err
	}
	matches = append(matches, filepath.Join(paths.Cache, porep.PAuxFile), filepath.Join(paths.Cache, porep.TAuxFile),
		paths.Sealed+replicaSuffix)
	for _, m := range matches {
		if err := os.Remove(m); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("removing stale PC2 output: %w", err)
		}
	}
	return nil
}
