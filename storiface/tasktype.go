package storiface

import (
	"fmt"
	"strings"
)

// TaskType names a kind of sealing work. The values are the reference's (Lotus sealtasks) so that operators'
// tools and environment variables keep working.
type TaskType string

// The task types.
const (
	TTDataCid               TaskType = "seal/v0/datacid"
	TTAddPiece              TaskType = "seal/v0/addpiece"
	TTPreCommit1            TaskType = "seal/v0/precommit/1"
	TTPreCommit2            TaskType = "seal/v0/precommit/2"
	TTCommit1               TaskType = "seal/v0/commit/1"
	TTCommit2               TaskType = "seal/v0/commit/2"
	TTFinalize              TaskType = "seal/v0/finalize"
	TTFinalizeUnsealed      TaskType = "seal/v0/finalizeunsealed"
	TTFetch                 TaskType = "seal/v0/fetch"
	TTUnseal                TaskType = "seal/v0/unseal"
	TTReplicaUpdate         TaskType = "seal/v0/replicaupdate"
	TTProveReplicaUpdate1   TaskType = "seal/v0/provereplicaupdate/1"
	TTProveReplicaUpdate2   TaskType = "seal/v0/provereplicaupdate/2"
	TTRegenSectorKey        TaskType = "seal/v0/regensectorkey"
	TTFinalizeReplicaUpdate TaskType = "seal/v0/finalize/replicaupdate"
	TTDownloadSector        TaskType = "seal/v0/download/sector"
)

type taskInfo struct {
	short string
	order int // lower runs first: finishing sectors beats starting new ones
}

var taskInfos = map[TaskType]taskInfo{
	TTDataCid:               {"DC", 10},
	TTAddPiece:              {"AP", 10},
	TTReplicaUpdate:         {"RU", 9},
	TTProveReplicaUpdate2:   {"PR2", 8},
	TTProveReplicaUpdate1:   {"PR1", 7},
	TTPreCommit1:            {"PC1", 6},
	TTPreCommit2:            {"PC2", 5},
	TTCommit2:               {"C2", 4},
	TTCommit1:               {"C1", 3},
	TTRegenSectorKey:        {"GSK", 11},
	TTFetch:                 {"GET", -1},
	TTDownloadSector:        {"DL", -2},
	TTFinalize:              {"FIN", -3},
	TTUnseal:                {"UNS", -4},
	TTFinalizeUnsealed:      {"FUS", -5},
	TTFinalizeReplicaUpdate: {"FRU", -6},
}

// AllTaskTypes lists every known task type in scheduling order (most urgent first).
func AllTaskTypes() []TaskType {
	out := make([]TaskType, 0, len(taskInfos))
	for tt := range taskInfos {
		out = append(out, tt)
	}
	sortTasks(out)
	return out
}

func sortTasks(tts []TaskType) {
	for i := 1; i < len(tts); i++ {
		for j := i; j > 0 && tts[j].Less(tts[j-1]); j-- {
			tts[j], tts[j-1] = tts[j-1], tts[j]
		}
	}
}

// Short returns the short name used in tables and env overrides ("PC1").
func (t TaskType) Short() string {
	if ti, ok := taskInfos[t]; ok {
		return ti.short
	}
	return "?" + string(t)
}

// Order returns the scheduling order: lower is scheduled first among equal priorities.
func (t TaskType) Order() int { return taskInfos[t].order }

// Less reports whether t is scheduled before b at equal priority; ties are broken by name so the order is total.
func (t TaskType) Less(b TaskType) bool {
	if t.Order() != b.Order() {
		return t.Order() < b.Order()
	}
	return t < b
}

// Valid reports whether t is a known task type.
func (t TaskType) Valid() bool { _, ok := taskInfos[t]; return ok }

// ParseTaskType accepts a short name ("PC1", case-insensitive) or a full name ("seal/v0/precommit/1").
func ParseTaskType(s string) (TaskType, error) {
	for tt, ti := range taskInfos {
		if strings.EqualFold(ti.short, s) || string(tt) == s {
			return tt, nil
		}
	}
	names := make([]string, 0, len(taskInfos))
	for _, tt := range AllTaskTypes() {
		names = append(names, tt.Short())
	}
	return "", fmt.Errorf("task type %q: accepted are %s (or full names like seal/v0/precommit/1)",
		s, strings.Join(names, ", "))
}
