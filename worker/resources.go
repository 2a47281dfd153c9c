package worker

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"

	"sealfleet/storiface"
)

// DetectResources reads the machine's resources: memory and swap from /proc/meminfo, logical CPUs, and GPU
// names from `nvidia-smi` when it is installed. A machine without /proc (not Linux) reports CPUs only.
func DetectResources(ctx context.Context) (storiface.WorkerResources, error) {
	res := storiface.WorkerResources{CPUs: uint64(runtime.NumCPU())}
	f, err := os.Open("/proc/meminfo")
	if err == nil {
		defer f.Close()
		mi, err := parseMeminfo(bufio.NewScanner(f))
		if err != nil {
			return res, fmt.Errorf("reading /proc/meminfo: %w", err)
		}
		res.MemPhysical = mi["MemTotal"]
		if avail, ok := mi["MemAvailable"]; ok && avail <= res.MemPhysical {
			res.MemUsed = res.MemPhysical - avail
		}
		res.MemSwap = mi["SwapTotal"]
		if free, ok := mi["SwapFree"]; ok && free <= res.MemSwap {
			res.MemSwapUsed = res.MemSwap - free
		}
	}
	res.GPUs = detectGPUs(ctx)
	return res, nil
}

// parseMeminfo reads "Key:   123 kB" lines into bytes.
func parseMeminfo(sc *bufio.Scanner) (map[string]uint64, error) {
	out := map[string]uint64{}
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		if len(fields) > 1 && fields[1] == "kB" {
			v *= 1024
		}
		out[key] = v
	}
	return out, sc.Err()
}

// detectGPUs lists GPU names from nvidia-smi, or nothing if it is absent or fails.
func detectGPUs(ctx context.Context) []string {
	bin, err := exec.LookPath("nvidia-smi")
	if err != nil {
		return nil
	}
	out, err := exec.CommandContext(ctx, bin, "--query-gpu=name", "--format=csv,noheader").Output()
	if err != nil {
		return nil
	}
	var gpus []string
	for _, line := range bytes.Split(out, []byte("\n")) {
		if name := strings.TrimSpace(string(line)); name != "" {
			gpus = append(gpus, name)
		}
	}
	return gpus
}
