package porep

import (
	"bufio"
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/seal/merkle"
	"sealfleet/seal/poseidon"
	"sealfleet/seal/sdr"
)

// PC2Bench is the result of BenchPC2. Seconds, CPUSeconds (user + system
// time of the process) and PeakRSSBytes cover PC2 only; PeakRSSScope says
// how the peak was isolated; LoadAvg is /proc/loadavg before PC2 (other
// work on the machine inflates Seconds but hardly CPUSeconds).
type PC2Bench struct {
	SectorSize              uint64             `json:"sectorSize"`
	Seconds                 float64            `json:"seconds"`
	PeakRSSBytes            uint64             `json:"peakRSSBytes"`
	PeakRSSScope            string             `json:"peakRSSScope"`
	PoseidonHashesPerSecond map[string]float64 `json:"poseidonHashesPerSecond"`
	CPUSeconds              float64            `json:"cpuSeconds"`
	LoadAvg                 string             `json:"loadAvg"`
	PC1Seconds              float64            `json:"pc1Seconds"`
	C1Seconds               float64            `json:"c1Seconds"`
	Cores                   int                `json:"cores"`
	CommD                   string             `json:"commD"`
	CommR                   string             `json:"commR"`
}

// BenchPC2 seals random data of proof's sector size in a fresh directory
// under tmpDir: PC1 with sdr.Label (parents cache in parentsDir, "" for
// the default), then PreCommit2 (timed, with its peak RSS isolated by
// resetting the kernel's high-water mark), then Commit1 and VerifyCommit1
// as a correctness check. It also measures single-core Poseidon
// throughput for the arities PC2 uses. The directory is removed at the end.
func BenchPC2(ctx context.Context, proof abi.RegisteredSealProof, tmpDir, parentsDir string) (*PC2Bench, error) {
	cfg, err := sdr.ConfigFor(proof)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(tmpDir, "bench-pc2-")
	if err != nil {
		return nil, fmt.Errorf("creating bench dir: %w", err)
	}
	defer os.RemoveAll(dir)
	cache, unsealed, sealed := filepath.Join(dir, "cache"), filepath.Join(dir, "unsealed"), filepath.Join(dir, "sealed")
	if err := os.Mkdir(cache, 0o755); err != nil {
		return nil, err
	}
	if err := writeRandomData(unsealed, cfg.Nodes); err != nil {
		return nil, err
	}
	f, err := os.Open(unsealed)
	if err != nil {
		return nil, err
	}
	commD, err := merkle.BuildFile(ctx, filepath.Join(dir, "tree-d-pre"), merkle.SHA254, 2, cfg.Nodes, 0, readerFill(f), 0)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("pre-computing comm_d: %w", err)
	}
	os.Remove(filepath.Join(dir, "tree-d-pre"))
	res := &PC2Bench{SectorSize: cfg.Nodes * merkle.NodeSize, Cores: runtime.GOMAXPROCS(0), PoseidonHashesPerSecond: map[string]float64{}}
	replicaID := sdr.ReplicaID(sdr.ProverID(1000), 1, [32]byte{1}, commD, cfg.PoRepID)

	start := time.Now()
	pc, err := sdr.OpenParentsCache(parentsDir, cfg)
	if err != nil {
		return nil, fmt.Errorf("parents cache: %w", err)
	}
	err = sdr.Label(ctx, cfg, pc, replicaID, cache)
	pc.Close()
	if err != nil {
		return nil, fmt.Errorf("PC1: %w", err)
	}
	res.PC1Seconds = time.Since(start).Seconds()

	debug.FreeOSMemory()
	scope := resetPeakRSS()
	res.LoadAvg = loadAvg()
	cpu0 := processCPU()
	start = time.Now()
	gotD, commR, err := PreCommit2(ctx, cfg, cache, unsealed, sealed, replicaID)
	if err != nil {
		return nil, fmt.Errorf("PC2: %w", err)
	}
	res.Seconds = time.Since(start).Seconds()
	res.CPUSeconds = (processCPU() - cpu0).Seconds()
	res.PeakRSSBytes, res.PeakRSSScope = peakRSS(scope)
	res.CommD, res.CommR = fmt.Sprintf("%x", gotD), fmt.Sprintf("%x", commR)

	start = time.Now()
	seed := [32]byte{2}
	if _, err := Commit1(ctx, cfg, cache, sealed, replicaID, seed, gotD, commR); err != nil {
		return nil, fmt.Errorf("C1 check: %w", err)
	}
	res.C1Seconds = time.Since(start).Seconds()
	for _, a := range []int{2, 8, 11} {
		hps, err := poseidon.Throughput(a, time.Second)
		if err != nil {
			return nil, err
		}
		res.PoseidonHashesPerSecond[strconv.Itoa(a)] = hps
	}
	return res, nil
}

// writeRandomData writes nodes random field elements (fr32-like data).
func writeRandomData(path string, nodes uint64) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating data: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	var n [32]byte
	for i := uint64(0); i < nodes; i++ {
		rng.Read(n[:])
		n[31] &= 0x3f
		w.Write(n[:])
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing data: %w", err)
	}
	return f.Close()
}

// resetPeakRSS resets the process's peak RSS (VmHWM) through
// /proc/self/clear_refs (Linux ≥ 4.0) and reports whether it could.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakRSS returns VmHWM after a reset, or the whole-process getrusage
// maximum if the reset was impossible.
func peakRSS(reset bool) (uint64, string) {
	if reset {
		if b, err := os.ReadFile("/proc/self/status"); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
					if kb, err := strconv.ParseUint(f[1], 10, 64); err == nil {
						return kb * 1024, "pc2"
					}
				}
			}
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, "unavailable"
	}
	return uint64(ru.Maxrss) * 1024, "process"
}

// processCPU returns the user + system CPU time of the process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAvg returns the first three fields of /proc/loadavg, or "".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
