// Package piecebench measures the piece layer on this machine: Fr32 padding and CommP throughput on one and two
// cores, next to github.com/filecoin-project/go-fil-commp-hashhash (the reference Go implementation) on the same
// data. It backs `sealfleet bench piece`; the reference is imported here only, never by the sealing code.
package piecebench

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	hashhash "github.com/filecoin-project/go-fil-commp-hashhash"

	"sealfleet/seal/commp"
	"sealfleet/seal/fr32"
)

// writeSize is the size of each Write into a CommP calculator, like a buffered file read.
const writeSize = 1 << 20

// Result holds the measured throughputs in MiB/s of unpadded payload.
type Result struct {
	PayloadBytes uint64 `json:"payloadBytes"`
	LoadAvg      string `json:"loadAvg"` // /proc/loadavg before the run
	NumCPU       int    `json:"numCPU"`

	Fr32Pad1Core   float64 `json:"fr32Pad1CoreMiBs"`
	Fr32Pad2Cores  float64 `json:"fr32Pad2CoresMiBs"`
	Fr32Unpad1Core float64 `json:"fr32Unpad1CoreMiBs"`

	CommP1Core          float64 `json:"commP1CoreMiBs"`
	CommP2Cores         float64 `json:"commP2CoresMiBs"`
	Hashhash1Core       float64 `json:"hashhash1CoreMiBs"`
	Hashhash2Cores      float64 `json:"hashhash2CoresMiBs"`
	Ratio1Core          float64 `json:"ratio1Core"`                 // CommP1Core / Hashhash1Core
	Ratio2CoresVs1      float64 `json:"ratio2CoresVsHashhash1Core"` // CommP2Cores / Hashhash1Core
	Ratio2CoresVs2Cores float64 `json:"ratio2CoresVsHashhash2Cores"`

	// MiB per CPU-second of the single-core runs: less sensitive to other load on the machine than wall time.
	CommP1CoreCPU    float64 `json:"commP1CoreMiBsPerCPUSecond"`
	Hashhash1CoreCPU float64 `json:"hashhash1CoreMiBsPerCPUSecond"`
	RatioCPU         float64 `json:"ratio1CorePerCPUSecond"`
	// MiB per CPU-second of the two-core runs: close to the single-core figure when the work splits without
	// overhead.
	CommP2CoresCPU    float64 `json:"commP2CoresMiBsPerCPUSecond"`
	Hashhash2CoresCPU float64 `json:"hashhash2CoresMiBsPerCPUSecond"`
}

// ParseSize parses a byte count with an optional KiB, MiB or GiB suffix ("512MiB", "1GiB", "1048576").
func ParseSize(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	mult := uint64(1)
	for suffix, m := range map[string]uint64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if strings.HasSuffix(t, suffix) {
			t, mult = strings.TrimSuffix(t, suffix), m
			break
		}
	}
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil || n == 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("size %q: want a positive byte count, optionally with KiB, MiB or GiB (e.g. 512MiB)", s)
	}
	return n * mult, nil
}

// Run measures with a payload of size bytes (rounded down to whole 127-byte blocks; at least 1 MiB). Every figure
// is the best of reps runs (Fr32 figures of at least 3), after one untimed pass that faults in the buffers.
func Run(size uint64, reps int) (Result, error) { return RunWithProgress(size, reps, nil) }

// Steps returns how many measurements RunWithProgress makes for reps, so a caller can size a progress bar.
func Steps(reps int) int { reps = max(reps, 1); return max(reps, 3) + 4*reps }

// RunWithProgress is Run calling step (if not nil) after each of its Steps(reps) measurements.
func RunWithProgress(size uint64, reps int, step func()) (Result, error) {
	if step == nil {
		step = func() {}
	}
	if size < 1<<20 {
		return Result{}, fmt.Errorf("bench size %d: must be at least 1 MiB", size)
	}
	size = size / fr32.UnpaddedBlock * fr32.UnpaddedBlock
	reps = max(reps, 1)
	load, _ := os.ReadFile("/proc/loadavg")
	res := Result{PayloadBytes: size, LoadAvg: strings.TrimSpace(string(load)), NumCPU: runtime.NumCPU()}
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*131 + i>>11)
	}
	padded := make([]byte, size/fr32.UnpaddedBlock*fr32.PaddedBlock)
	back := make([]byte, size)
	fr32.PadSerial(data, padded) // fault the pages in
	fr32.UnpadSerial(padded, back)
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)

	for range max(reps, 3) {
		runtime.GOMAXPROCS(1)
		res.Fr32Pad1Core = max(res.Fr32Pad1Core, mibs(size, timeIt(func() { fr32.PadSerial(data, padded) })))
		res.Fr32Unpad1Core = max(res.Fr32Unpad1Core, mibs(size, timeIt(func() { fr32.UnpadSerial(padded, back) })))
		runtime.GOMAXPROCS(2)
		res.Fr32Pad2Cores = max(res.Fr32Pad2Cores, mibs(size, timeIt(func() { _ = fr32.Pad(data, padded) })))
		step()
	}
	for range reps {
		for _, m := range []struct {
			procs   int
			calc    digester
			into    *float64
			intoCPU *float64
		}{
			{1, commp.NewCalc(1), &res.CommP1Core, &res.CommP1CoreCPU},
			{1, &hashhash.Calc{}, &res.Hashhash1Core, &res.Hashhash1CoreCPU},
			{2, commp.NewCalc(2), &res.CommP2Cores, &res.CommP2CoresCPU},
			{2, &hashhash.Calc{}, &res.Hashhash2Cores, &res.Hashhash2CoresCPU},
		} {
			runtime.GOMAXPROCS(m.procs)
			cpu0 := cpuTime()
			rate, err := commpRate(data, m.calc)
			if err != nil {
				return res, err
			}
			*m.into = max(*m.into, rate)
			if cpu := cpuTime() - cpu0; cpu > 0 {
				*m.intoCPU = max(*m.intoCPU, mibs(size, cpu))
			}
			step()
		}
	}
	if res.Hashhash1CoreCPU > 0 {
		res.RatioCPU = res.CommP1CoreCPU / res.Hashhash1CoreCPU
	}
	res.Ratio1Core = res.CommP1Core / res.Hashhash1Core
	res.Ratio2CoresVs1 = res.CommP2Cores / res.Hashhash1Core
	res.Ratio2CoresVs2Cores = res.CommP2Cores / res.Hashhash2Cores
	return res, nil
}

type digester interface {
	Write([]byte) (int, error)
	Digest() ([]byte, uint64, error)
}

func commpRate(data []byte, c digester) (float64, error) {
	var err error
	d := timeIt(func() {
		for p := data; len(p) > 0; {
			n := min(len(p), writeSize)
			if _, err = c.Write(p[:n]); err != nil {
				return
			}
			p = p[n:]
		}
		_, _, err = c.Digest()
	})
	if err != nil {
		return 0, fmt.Errorf("commp bench: %w", err)
	}
	return mibs(uint64(len(data)), d), nil
}

func timeIt(fn func()) time.Duration {
	start := time.Now()
	fn()
	return time.Since(start)
}

func mibs(bytes uint64, d time.Duration) float64 {
	return float64(bytes) / (1 << 20) / d.Seconds()
}
