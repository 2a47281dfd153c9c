package resources

import (
	"fmt"
	"sort"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// Table maps a task type and a seal proof type to what one task of that kind needs from a worker.
type Table map[storiface.TaskType]map[abi.RegisteredSealProof]storiface.Resources

// Spec returns the row for (tt, spt); a missing row is the zero Resources (a task that needs nothing).
func (t Table) Spec(tt storiface.TaskType, spt abi.RegisteredSealProof) storiface.Resources {
	return t[tt][spt]
}

// Clone returns a deep copy of t.
func (t Table) Clone() Table {
	out := make(Table, len(t))
	for tt, m := range t {
		cm := make(map[abi.RegisteredSealProof]storiface.Resources, len(m))
		for spt, r := range m {
			cm[spt] = r
		}
		out[tt] = cm
	}
	return out
}

// ParallelNum / ParallelDenom is the share of a worker's cores that a multithreaded task (MaxParallelism -1) takes:
// 92 %, as in the reference (12 cores → 11, 16 → 14, 32 → 29, 64 → 58, 128 → 117). Constants, not variables:
// there is nothing here for a test to mutate.
const (
	ParallelNum   = 92
	ParallelDenom = 100
)

// Threads returns how many of a worker's cpus one task with resources r occupies. With a GPU present and a task
// that can use it, MaxParallelismGPU applies when set. -1 means "multithreaded": 92 % of the cores, rounded down;
// when that rounds to zero (a 1-core worker) the task takes all of them.
func Threads(r storiface.Resources, cpus uint64, gpus int) uint64 {
	mp := r.MaxParallelism
	if r.GPUUtilization > 0 && gpus > 0 && r.MaxParallelismGPU != 0 {
		mp = r.MaxParallelismGPU
	}
	if mp == -1 {
		n := cpus * ParallelNum / ParallelDenom
		if n == 0 {
			return cpus
		}
		return n
	}
	if mp < 0 {
		return 0
	}
	return uint64(mp)
}

// baseProofs are the V1 proof types, smallest sector first; every other family copies their rows.
var baseProofs = []abi.RegisteredSealProof{
	abi.RegisteredSealProof_StackedDrg2KiBV1,
	abi.RegisteredSealProof_StackedDrg8MiBV1,
	abi.RegisteredSealProof_StackedDrg512MiBV1,
	abi.RegisteredSealProof_StackedDrg32GiBV1,
	abi.RegisteredSealProof_StackedDrg64GiBV1,
}

// Proof families share the V1 rows: id+5 is V1_1, id+10 V1_1 synthetic PoRep, id+15 V1_2 NI-PoRep.
var familyOffsets = []abi.RegisteredSealProof{0, 5, 10, 15}

const (
	kib = uint64(1) << 10
	mib = uint64(1) << 20
	gib = uint64(1) << 30
)

// row builds one Resources value; the argument order follows the table columns below.
func row(minMem, maxMem uint64, gpu float64, mp, mpGPU int, base uint64) storiface.Resources {
	return storiface.Resources{MinMemory: minMem, MaxMemory: maxMem, GPUUtilization: gpu,
		MaxParallelism: mp, MaxParallelismGPU: mpGPU, BaseMinMemory: base}
}

// referenceRows are the reference's default values per task type for the V1 proofs, in baseProofs order
// (2KiB, 8MiB, 512MiB, 32GiB, 64GiB). Source: Lotus storage/sealer/storiface/resources.go ResourceTable.
func referenceRows() map[storiface.TaskType][5]storiface.Resources {
	small := func(mp int, gpu float64) [2]storiface.Resources {
		return [2]storiface.Resources{row(2*kib, 2*kib, gpu, mp, 0, 2*kib), row(8*mib, 8*mib, gpu, mp, 0, 8*mib)}
	}
	ap, pc1, pc2, c1 := small(1, 0), small(1, 0), small(-1, 0), small(0, 0)
	c2 := small(1, 1)
	fetch := row(1*mib, 1*mib, 0, 0, 0, 0)
	rows := map[storiface.TaskType][5]storiface.Resources{
		storiface.TTAddPiece: {ap[0], ap[1], row(gib, gib, 0, 1, 0, gib), row(4*gib, 4*gib, 0, 1, 0, gib),
			row(8*gib, 8*gib, 0, 1, 0, gib)},
		storiface.TTPreCommit1: {pc1[0], pc1[1], row(768*mib, gib, 0, 1, 0, mib),
			row(56*gib, 64*gib, 0, 1, 0, 10*mib), row(112*gib, 128*gib, 0, 1, 0, 10*mib)},
		storiface.TTPreCommit2: {pc2[0], pc2[1], row(gib, 3*gib/2, 0, -1, 0, gib),
			row(15*gib, 15*gib, 1, -1, 6, gib), row(30*gib, 30*gib, 1, -1, 6, gib)},
		storiface.TTCommit1: {c1[0], c1[1], row(gib, gib, 0, 0, 0, gib), row(gib, gib, 0, 0, 0, gib),
			row(gib, gib, 0, 0, 0, gib)},
		storiface.TTCommit2: {c2[0], c2[1], row(gib, 3*gib/2, 1, 1, 0, 10*gib),
			row(30*gib, 150*gib, 1, -1, 6, 32*gib), row(60*gib, 190*gib, 1, -1, 6, 64*gib)},
		storiface.TTFetch: {fetch, fetch, fetch, fetch, fetch},
		storiface.TTReplicaUpdate: {row(2*kib, 2*kib, 1, 1, 0, 2*kib), row(8*mib, 8*mib, 1, 1, 0, 8*mib),
			row(gib, gib, 1, 1, 0, gib), row(4*gib, 4*gib, 1, 1, 6, gib), row(8*gib, 8*gib, 1, 1, 6, gib)},
	}
	rows[storiface.TTProveReplicaUpdate1] = rows[storiface.TTCommit1]
	rows[storiface.TTProveReplicaUpdate2] = rows[storiface.TTCommit2]
	rows[storiface.TTUnseal] = rows[storiface.TTPreCommit1]
	rows[storiface.TTRegenSectorKey] = rows[storiface.TTReplicaUpdate]
	// DataCid does not depend on the sector's proof type: every size uses the 32GiB AddPiece row.
	dc := rows[storiface.TTAddPiece][3]
	rows[storiface.TTDataCid] = [5]storiface.Resources{dc, dc, dc, dc, dc}
	return rows
}

// DefaultTable returns a fresh copy of the reference's default table for every known task type and every seal
// proof type (V1, V1_1, V1_1 synthetic PoRep, V1_2 NI-PoRep; the families share values). Task types the reference
// has no row for (finalize, move, download, ...) get an explicit zero row, so env overrides can still set them.
func DefaultTable() Table {
	rows := referenceRows()
	out := Table{}
	for _, tt := range storiface.AllTaskTypes() {
		r := rows[tt] // zero rows when absent
		m := make(map[abi.RegisteredSealProof]storiface.Resources, len(baseProofs)*len(familyOffsets))
		for i, base := range baseProofs {
			for _, off := range familyOffsets {
				m[base+off] = r[i]
			}
		}
		out[tt] = m
	}
	return out
}

// SizeShort returns the short size used in env names: "2K", "8M", "512M", "32G", "64G".
func SizeShort(spt abi.RegisteredSealProof) (string, error) {
	ssize, err := spt.SectorSize()
	if err != nil {
		return "", fmt.Errorf("proof type %d: %w", spt, err)
	}
	s := ssize.ShortString()
	if len(s) > 2 && s[len(s)-2:] == "iB" {
		s = s[:len(s)-2]
	}
	return s, nil
}

// sortedProofs returns the proof types of m in ascending order.
func sortedProofs(m map[abi.RegisteredSealProof]storiface.Resources) []abi.RegisteredSealProof {
	out := make([]abi.RegisteredSealProof, 0, len(m))
	for spt := range m {
		out = append(out, spt)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
