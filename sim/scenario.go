// Package sim is a discrete-event simulator of a sealing cluster that drives the real scheduler core
// (sched.Core) against simulated workers in virtual time, to measure makespan against a lower bound, idle time and
// fetch traffic for a scenario.
package sim

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/sched"
	"sealfleet/storiface"
)

// Scenario describes a simulated cluster and its workload. JSON keys and defaults:
//
//	sectorSize            "32GiB"  (2KiB, 8MiB, 512MiB, 32GiB, 64GiB); proof type V1_1 of that size
//	sectors               200
//	arrivalEverySeconds   60       sector i arrives at i × this
//	pipeline              ["AP","PC1","PC2","C1","C2","FIN"]  task short names, run in order per sector
//	durationsSeconds      AP 600, PC1 12600, PC2 1500, C1 60, C2 1200, FIN 300  (on a speed-1.0 worker)
//	fetchSecondsPerGiB    2        a stage on another worker than the one holding the sector's files fetches them
//	workers               [{name, count 1, cpus, memoryGiB, swapGiB 0, gpus 0, speed 1.0, tasks = pipeline}]
//	dealSectors           0        the last dealSectors sectors are deal sectors (priority 1024) ...
//	dealBurstAtSeconds    0        ... and all arrive at this time instead of on the regular cadence
//	starvationAfterSeconds 120     the scheduler's starvation bound (0 keeps the default, -1 disables)
//	seed                  1        tie-break seed
type Scenario struct {
	SectorSize             string             `json:"sectorSize"`
	Sectors                int                `json:"sectors"`
	ArrivalEverySeconds    float64            `json:"arrivalEverySeconds"`
	Pipeline               []string           `json:"pipeline"`
	DurationsSeconds       map[string]float64 `json:"durationsSeconds"`
	FetchSecondsPerGiB     float64            `json:"fetchSecondsPerGiB"`
	Workers                []WorkerGroup      `json:"workers"`
	DealSectors            int                `json:"dealSectors"`
	DealBurstAtSeconds     float64            `json:"dealBurstAtSeconds"`
	StarvationAfterSeconds float64            `json:"starvationAfterSeconds"`
	Seed                   uint64             `json:"seed"`

	spt   abi.RegisteredSealProof
	tasks []storiface.TaskType
}

// WorkerGroup is Count identical workers.
type WorkerGroup struct {
	Name      string   `json:"name"`
	Count     int      `json:"count"`
	CPUs      uint64   `json:"cpus"`
	MemoryGiB uint64   `json:"memoryGiB"`
	SwapGiB   uint64   `json:"swapGiB"`
	GPUs      int      `json:"gpus"`
	Speed     float64  `json:"speed"`
	Tasks     []string `json:"tasks"`

	tasks []storiface.TaskType
}

var defaultDurations = map[string]float64{"AP": 600, "PC1": 12600, "PC2": 1500, "C1": 60, "C2": 1200, "FIN": 300}

// LoadScenario reads and validates a scenario file.
func LoadScenario(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading scenario: %w", err)
	}
	return ParseScenario(b)
}

// ParseScenario decodes a scenario (unknown keys are an error), fills in defaults and validates it.
func ParseScenario(b []byte) (*Scenario, error) {
	var sc Scenario
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		return nil, fmt.Errorf("decoding scenario: %w", err)
	}
	if err := sc.normalize(); err != nil {
		return nil, err
	}
	return &sc, nil
}

func (sc *Scenario) normalize() error {
	if sc.SectorSize == "" {
		sc.SectorSize = "32GiB"
	}
	ssize, err := storiface.ParseSectorSize(sc.SectorSize)
	if err != nil {
		return fmt.Errorf("scenario sectorSize: %w", err)
	}
	if sc.spt, err = storiface.SealProofFor(ssize, storiface.ProofV1_1); err != nil {
		return fmt.Errorf("scenario sectorSize: %w", err)
	}
	if sc.Sectors == 0 {
		sc.Sectors = 200
	}
	if sc.Sectors < 0 || sc.Sectors > 1_000_000 {
		return fmt.Errorf("scenario sectors %d: accepted are 1..1000000", sc.Sectors)
	}
	if sc.ArrivalEverySeconds == 0 {
		sc.ArrivalEverySeconds = 60
	}
	if sc.ArrivalEverySeconds < 0 {
		return fmt.Errorf("scenario arrivalEverySeconds %v: must be >= 0", sc.ArrivalEverySeconds)
	}
	if len(sc.Pipeline) == 0 {
		sc.Pipeline = []string{"AP", "PC1", "PC2", "C1", "C2", "FIN"}
	}
	if sc.tasks, err = parseTasks("pipeline", sc.Pipeline); err != nil {
		return err
	}
	if sc.DurationsSeconds == nil {
		sc.DurationsSeconds = map[string]float64{}
	}
	for _, name := range sc.Pipeline {
		if _, ok := sc.DurationsSeconds[name]; !ok {
			d, ok := defaultDurations[name]
			if !ok {
				return fmt.Errorf("scenario durationsSeconds: no duration for %s and no default", name)
			}
			sc.DurationsSeconds[name] = d
		}
		if sc.DurationsSeconds[name] < 0 {
			return fmt.Errorf("scenario durationsSeconds[%s]: must be >= 0", name)
		}
	}
	if sc.FetchSecondsPerGiB == 0 {
		sc.FetchSecondsPerGiB = 2
	}
	if sc.FetchSecondsPerGiB < 0 {
		return fmt.Errorf("scenario fetchSecondsPerGiB: must be >= 0")
	}
	if len(sc.Workers) == 0 {
		return fmt.Errorf("scenario workers: at least one group is required")
	}
	for i := range sc.Workers {
		if err := sc.Workers[i].normalize(i, sc.Pipeline); err != nil {
			return err
		}
	}
	if sc.DealSectors < 0 || sc.DealSectors > sc.Sectors {
		return fmt.Errorf("scenario dealSectors %d: accepted are 0..sectors", sc.DealSectors)
	}
	if sc.StarvationAfterSeconds == 0 {
		sc.StarvationAfterSeconds = sched.DefaultStarvationAfter.Seconds()
	}
	if sc.Seed == 0 {
		sc.Seed = 1
	}
	return nil
}

func (g *WorkerGroup) normalize(i int, pipeline []string) error {
	if g.Name == "" {
		g.Name = fmt.Sprintf("group%d", i)
	}
	if g.Count == 0 {
		g.Count = 1
	}
	if g.Count < 0 || g.Count > 100_000 {
		return fmt.Errorf("scenario workers[%d].count %d: accepted are 1..100000", i, g.Count)
	}
	if g.CPUs == 0 || g.MemoryGiB == 0 {
		return fmt.Errorf("scenario workers[%d] (%s): cpus and memoryGiB are required", i, g.Name)
	}
	if g.Speed == 0 {
		g.Speed = 1
	}
	if g.Speed < 0 {
		return fmt.Errorf("scenario workers[%d].speed: must be > 0", i)
	}
	if len(g.Tasks) == 0 {
		g.Tasks = pipeline
	}
	var err error
	g.tasks, err = parseTasks(fmt.Sprintf("workers[%d].tasks", i), g.Tasks)
	return err
}

func parseTasks(field string, names []string) ([]storiface.TaskType, error) {
	out := make([]storiface.TaskType, 0, len(names))
	for _, n := range names {
		tt, err := storiface.ParseTaskType(n)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", field, err)
		}
		out = append(out, tt)
	}
	return out, nil
}
