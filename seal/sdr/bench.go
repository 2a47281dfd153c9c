package sdr

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

// PC1BenchResult is what BenchPC1 measured. JSON keys are those of `sealfleet bench pc1 --json`.
type PC1BenchResult struct {
	Nodes  uint64 `json:"nodes"`
	Layers int    `json:"layers"`
	// Seconds is the wall time of Label (all layers, including writing the layer files).
	Seconds float64 `json:"seconds"`
	// NsPerNode is Seconds / (Nodes × Layers).
	NsPerNode float64 `json:"nsPerNode"`
	// ShaNsPerNode is the bare cost of one label's hash on this machine in this run: chained SHA-256 over a
	// 1248-byte message on one goroutine with the fastest SHA-256 available (ShaImpl), measured just before and
	// just after labeling (the mean is reported).
	ShaNsPerNode       float64 `json:"shaNsPerNode"`
	ShaNsPerNodeBefore float64 `json:"shaNsPerNodeBefore"`
	ShaNsPerNodeAfter  float64 `json:"shaNsPerNodeAfter"`
	// ShaImpl names the SHA-256 the floor was measured with: "sha-ni" (the label kernel) or "crypto/sha256".
	ShaImpl string `json:"shaImpl"`
	// ShaStdlibNsPerNode is the same chain with crypto/sha256, for comparison.
	ShaStdlibNsPerNode float64 `json:"shaStdlibNsPerNode"`
	// Ratio is NsPerNode / ShaNsPerNode: 1.0 is the SHA-256 floor.
	Ratio float64 `json:"ratio"`
	// PeakRSSBytes is the process's maximum resident set size (getrusage ru_maxrss), parents cache pages
	// included.
	PeakRSSBytes uint64 `json:"peakRSSBytes"`
	// ParentsCacheSeconds is the time to open the parents cache: generation if it was missing, else digest
	// verification. ParentsCacheGenerated tells which.
	ParentsCacheSeconds   float64 `json:"parentsCacheSeconds"`
	ParentsCacheGenerated bool    `json:"parentsCacheGenerated"`
	ParentsCacheBytes     uint64  `json:"parentsCacheBytes"`
	// HasherCPUNsPerNode is the thread CPU time of the label kernel calls per node and ShaCPUNsPerNode the
	// SHA-256 loop's (both from CLOCK_THREAD_CPUTIME_ID); CPURatio is their quotient. Unlike Ratio they do not
	// count time the thread waited for a processor, so they stay meaningful on a machine shared with other work.
	HasherCPUNsPerNode float64 `json:"hasherCpuNsPerNode"`
	ShaCPUNsPerNode    float64 `json:"shaCpuNsPerNode"`
	CPURatio           float64 `json:"cpuRatio"`
	// GathererCPUNsPerNode is the thread CPU time per node the gatherer spent filling tables (copies, addresses
	// and first-block states), on the other core: it must stay below HasherCPUNsPerNode.
	GathererCPUNsPerNode float64 `json:"gathererCpuNsPerNode"`
	// HasherWaitNsPerNode is the wall time per node the hashing thread spent waiting for the gatherer.
	HasherWaitNsPerNode float64 `json:"hasherWaitNsPerNode"`
	// HasherPreemptions is how often the hashing thread lost its CPU to another thread during the kernel
	// calls (Linux).
	HasherPreemptions uint64 `json:"hasherPreemptions"`
	// HostStealPercent is the share of the time this machine's CPUs had work that the hypervisor gave to other
	// guests while labeling (Linux /proc/stat: steal / (steal + busy), all CPUs; -1 where not measured), and
	// FloorHostStealPercent the same during the floor's two measurements. On a virtual machine it shows how
	// much of Ratio's spread is the host's.
	HostStealPercent      float64 `json:"hostStealPercent"`
	FloorHostStealPercent float64 `json:"floorHostStealPercent"`
	Cores                 int     `json:"cores"`
}

// ShaNsPerNode measures the bare SHA-256 work of one label, the sequential floor of labeling, over iters
// iterations and returns wall and thread-CPU nanoseconds per label. Each iteration hashes a 1248-byte message
// (20 compressions) whose parent positions all hold the previous iteration's digest, so the hashes are chained
// and cannot overlap. It uses the fastest SHA-256 this machine has: the label kernel (SHA-NI) where available,
// else crypto/sha256 (see ShaStdlibNsPerNode).
func ShaNsPerNode(iters int) (wallNs, cpuNs float64) {
	if !haveLabelKernel {
		return ShaStdlibNsPerNode(iters)
	}
	var buf [NodeSize]byte
	return timePerIter(iters, func() { shaChainKernel(&buf, iters) })
}

// ShaStdlibNsPerNode is ShaNsPerNode with crypto/sha256 over the assembled 1248-byte message.
func ShaStdlibNsPerNode(iters int) (wallNs, cpuNs float64) {
	var msg [msgLen]byte
	return timePerIter(iters, func() {
		for i := 0; i < iters; i++ {
			h := sha256.Sum256(msg[:])
			copy(msg[prefixLen:], h[:])
		}
	})
}

// timePerIter runs f (iters iterations of something) on a locked thread and returns wall and thread-CPU
// nanoseconds per iteration.
func timePerIter(iters int, f func()) (wallNs, cpuNs float64) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu := threadCPU()
	start := time.Now()
	f()
	wall := time.Since(start)
	return float64(wall.Nanoseconds()) / float64(iters), float64((threadCPU() - cpu).Nanoseconds()) / float64(iters)
}

// BenchPC1 labels a replica of cfg's graph with a random replica id (labels do not depend on the sector's
// data, only on the replica id, which covers CommD) into a fresh directory under workDir, removes it
// afterwards, and reports timings against the SHA-256 floor. The parents cache is opened in parentsDir ("" for
// the default), generating it if missing.
func BenchPC1(ctx context.Context, cfg Config, parentsDir, workDir string) (PC1BenchResult, error) {
	res := PC1BenchResult{Nodes: cfg.Nodes, Layers: cfg.Layers, Cores: runtime.GOMAXPROCS(0),
		ParentsCacheBytes: ParentsCacheSize(cfg)}
	if err := cfg.Validate(); err != nil {
		return res, err
	}
	if parentsDir == "" {
		d, err := DefaultParentsCacheDir()
		if err != nil {
			return res, err
		}
		parentsDir = d
	}
	_, statErr := os.Stat(filepath.Join(parentsDir, ParentsCacheFileName(cfg)))
	res.ParentsCacheGenerated = statErr != nil
	start := time.Now()
	pc, err := OpenParentsCache(parentsDir, cfg)
	if err != nil {
		return res, err
	}
	defer pc.Close()
	res.ParentsCacheSeconds = time.Since(start).Seconds()

	var ticket, commD [32]byte
	if _, err := rand.Read(ticket[:]); err != nil {
		return res, fmt.Errorf("random ticket: %w", err)
	}
	if _, err := rand.Read(commD[:]); err != nil {
		return res, fmt.Errorf("random comm_d: %w", err)
	}
	commD[31] &= 0x3f
	replicaID := ReplicaID(ProverID(1000), 1, ticket, commD, cfg.PoRepID)

	dir, err := os.MkdirTemp(workDir, "sealfleet-bench-pc1-")
	if err != nil {
		return res, fmt.Errorf("creating work dir: %w", err)
	}
	defer os.RemoveAll(dir)

	// 2^20 chained labels (about 0.9 s) before and after: on a VM whose speed drifts by several per cent, a
	// shorter floor measurement (it was one label per node, 0.2 s for 8MiB) made the ratio of small sectors
	// swing with it.
	const shaIters = 1 << 20
	var cpuBefore, cpuAfter float64
	var floorSteal, labelSteal stealMeter
	floor := func() (wallNs, cpuNs float64) {
		floorSteal.start()
		defer floorSteal.stop()
		return ShaNsPerNode(shaIters)
	}
	res.ShaNsPerNodeBefore, cpuBefore = floor()
	labelSteal.start()
	start = time.Now()
	stats, err := LabelWithStats(ctx, cfg, pc, replicaID, dir)
	if err != nil {
		return res, err
	}
	res.Seconds = time.Since(start).Seconds()
	labelSteal.stop()
	res.ShaNsPerNodeAfter, cpuAfter = floor()
	res.HostStealPercent, res.FloorHostStealPercent = labelSteal.percent(), floorSteal.percent()
	res.NsPerNode = res.Seconds * 1e9 / float64(cfg.Nodes*uint64(cfg.Layers))
	res.ShaNsPerNode = (res.ShaNsPerNodeBefore + res.ShaNsPerNodeAfter) / 2
	res.ShaStdlibNsPerNode, _ = ShaStdlibNsPerNode(shaIters)
	res.ShaImpl = "crypto/sha256"
	if haveLabelKernel {
		res.ShaImpl = "sha-ni"
	}
	res.Ratio = res.NsPerNode / res.ShaNsPerNode
	res.ShaCPUNsPerNode = (cpuBefore + cpuAfter) / 2
	res.HasherCPUNsPerNode = stats.HasherCPUSeconds * 1e9 / float64(cfg.Nodes*uint64(cfg.Layers))
	res.HasherWaitNsPerNode = stats.HasherWaitSeconds * 1e9 / float64(cfg.Nodes*uint64(cfg.Layers))
	res.GathererCPUNsPerNode = stats.GathererCPUSeconds * 1e9 / float64(cfg.Nodes*uint64(cfg.Layers))
	res.HasherPreemptions = stats.HasherPreemptions
	if res.ShaCPUNsPerNode > 0 {
		res.CPURatio = res.HasherCPUNsPerNode / res.ShaCPUNsPerNode
	}
	res.PeakRSSBytes = peakRSS()
	return res, nil
}

// peakRSS returns ru_maxrss of this process in bytes (Linux reports kilobytes).
func peakRSS() uint64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return uint64(ru.Maxrss) * 1024
}
