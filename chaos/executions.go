package chaos

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"sealfleet/storiface"
	"sealfleet/worker"
)

// The at-most-once audit reads every worker's execution record (worker.ReadExecutionsRepo: one row per
// execution of a call's work, written before the work starts and marked finished when its result is saved) and
// applies the rules below. "Finished" means the work returned a value that was saved; an execution whose error
// was saved is "failed" and one that never finished in a worker lifetime since ended is "cut".
//
//  1. Per WorkID (the manager's identity of a piece of work: task + digest of sector and parameters), at most
//     one finished execution. A second one is excused ("re-issued") only when the manager was killed after the
//     first started and before the second started, and either within lostWindow after the first started or
//     within lostWindow after it finished (from lostSlack before each moment). Those are the manager's two
//     windows in which a restart forgets work: between a worker accepting a call and the manager persisting its
//     call ID (the manager then drops the result as unknown), and between the manager handing a result to the
//     pipeline (which forgets the WorkID) and the pipeline persisting the sector's next state. Any other second
//     finished execution — in particular one whose manager was killed in the middle of a long first execution,
//     which it must have re-attached — is a double run.
//  2. Per sector and sealing task (AP, PC1, PC2, C1, C2, FIN), two finished executions under different WorkIDs
//     need a kill (of any process) between the start of the first and the start of the second: recomputation
//     after a restart is allowed, a second run without one is not.
//  3. A worker has at most one lifetime per kill of it, plus the first: a lifetime more is a restart nobody
//     caused (a crash).
//
// Cut executions are allowed and counted: a kill may stop any running call.

// lostWindow bounds each of the manager's two windows (see rule 1): both close with one SQLite write (the call
// ID, the sector's next state), slow only under load. lostSlack allows for the order of the kill and the
// worker's clock reading around the same moment.
const (
	lostWindow = 5 * time.Second
	lostSlack  = time.Second
)

// sealingTasks are the per-sector computations rule 2 applies to.
var sealingTasks = map[storiface.TaskType]bool{storiface.TTAddPiece: true, storiface.TTPreCommit1: true,
	storiface.TTPreCommit2: true, storiface.TTCommit1: true, storiface.TTCommit2: true, storiface.TTFinalize: true}

// execRecord is one execution read from the record of the named worker.
type execRecord struct {
	Worker string
	worker.Execution
}

// workerRecord is what one worker's database holds.
type workerRecord struct {
	Name  string
	Boots int // lifetimes recorded
	Execs []worker.Execution
}

// readExecutions reads the execution record of every worker of the cluster.
func (c *cluster) readExecutions(ctx context.Context) ([]workerRecord, error) {
	var out []workerRecord
	for _, name := range c.workerNames {
		log, err := worker.ReadExecutionsRepo(ctx, c.workerRepos[name])
		if err != nil {
			return nil, fmt.Errorf("worker %s: %w", name, err)
		}
		out = append(out, workerRecord{Name: name, Boots: len(log.Boots), Execs: log.Executions})
	}
	return out, nil
}

// auditExecutions applies the at-most-once rules to the workers' records and the kills of the run, filling the
// execution counts of rep and appending a failure for each broken rule.
func auditExecutions(records []workerRecord, kills []Kill, rep *Report) {
	var all []execRecord
	for _, r := range records {
		killed := 0
		for _, k := range kills {
			if k.Victim == r.Name {
				killed++
			}
		}
		if r.Boots > killed+1 {
			rep.Failures = append(rep.Failures, fmt.Sprintf("worker %s started %d times but was killed %d times: it restarted on its own",
				r.Name, r.Boots, killed))
		}
		for _, e := range r.Execs {
			all = append(all, execRecord{Worker: r.Name, Execution: e})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Started.Before(all[j].Started) })
	countExecutions(all, rep)
	byWork := map[string][]execRecord{}
	bySectorTask := map[string][]execRecord{}
	for _, e := range all {
		if e.State != worker.ExecFinished {
			continue
		}
		if e.WorkID != "" {
			byWork[e.WorkID] = append(byWork[e.WorkID], e)
		}
		if sealingTasks[e.Task] {
			k := storiface.SectorName(e.Sector) + " " + e.Task.Short()
			bySectorTask[k] = append(bySectorTask[k], e)
		}
	}
	for _, wid := range sortedKeys(byWork) {
		checkWorkID(wid, byWork[wid], kills, rep)
	}
	for _, k := range sortedKeys(bySectorTask) {
		checkSectorTask(k, bySectorTask[k], kills, rep)
	}
}

// countExecutions fills the counts of rep from every execution.
func countExecutions(all []execRecord, rep *Report) {
	perWork := map[string]int{}
	finishedPerWork := map[string]int{}
	for _, e := range all {
		rep.Executions++
		sector, task := storiface.SectorName(e.Sector), e.Task.Short()
		switch e.State {
		case worker.ExecFinished:
			rep.FinishedExecutions++
			addSectorTask(rep.FinishedBySectorTask, sector, task)
		case worker.ExecFailed:
			rep.FailedExecutions++
		case worker.ExecCut:
			rep.CutExecutions++
			addSectorTask(rep.CutBySectorTask, sector, task)
		case worker.ExecRunning:
			rep.RunningExecutions++
		}
		if e.WorkID == "" {
			continue
		}
		perWork[e.WorkID]++
		if e.State == worker.ExecFinished {
			finishedPerWork[e.WorkID]++
		}
	}
	rep.WorkIDs = len(perWork)
	for wid, n := range perWork {
		rep.ExecutionsPerWorkID[strconv.Itoa(n)]++
		f := finishedPerWork[wid]
		rep.FinishedPerWorkID[strconv.Itoa(f)]++
		rep.MaxFinishedPerWorkID = max(rep.MaxFinishedPerWorkID, f)
	}
}

func addSectorTask(m map[string]map[string]int, sector, task string) {
	if m[sector] == nil {
		m[sector] = map[string]int{}
	}
	m[sector][task]++
}

// checkWorkID applies rule 1 to the finished executions of one WorkID, oldest first.
func checkWorkID(wid string, execs []execRecord, kills []Kill, rep *Report) {
	for i := 1; i < len(execs); i++ {
		a, b := execs[i-1], execs[i]
		what := fmt.Sprintf("%s of %s: finished on %s (call %s, started %s) and again on %s (call %s, started %s)",
			wid, storiface.SectorName(a.Sector), a.Worker, a.Call, a.Started.Format(time.StampMilli),
			b.Worker, b.Call, b.Started.Format(time.StampMilli))
		if why, ok := managerKillLosing(a.Execution, b.Started, kills); ok {
			rep.Reissued = append(rep.Reissued, what+"; "+why)
			continue
		}
		rep.RanTwice = append(rep.RanTwice, what)
		rep.Failures = append(rep.Failures, "ran twice: "+what)
	}
}

// managerKillLosing finds a manager kill, before the re-issued call started at second, in one of the windows
// in which the manager may have lost the first execution's work (rule 1), and says which.
func managerKillLosing(first worker.Execution, second time.Time, kills []Kill) (string, bool) {
	in := func(k Kill, from time.Time) bool {
		return !k.At.Before(from.Add(-lostSlack)) && !k.At.After(from.Add(lostWindow))
	}
	for _, k := range kills {
		if k.Victim != "manager" || !k.At.Before(second) || k.At.Before(first.Started.Add(-lostSlack)) {
			continue
		}
		switch {
		case in(k, first.Started):
			return fmt.Sprintf("the manager was killed %d ms after the first call started (window: call ID or early result not yet persisted)",
				k.At.Sub(first.Started).Milliseconds()), true
		case !first.Finished.IsZero() && in(k, first.Finished):
			return fmt.Sprintf("the manager was killed %d ms after the first call finished (window: result taken, sector's next state not yet saved)",
				k.At.Sub(first.Finished).Milliseconds()), true
		}
	}
	return "", false
}

// checkSectorTask applies rule 2 to the finished executions of one sector's task, oldest first; pairs under one
// WorkID were judged by rule 1.
func checkSectorTask(key string, execs []execRecord, kills []Kill, rep *Report) {
	for i := 1; i < len(execs); i++ {
		a, b := execs[i-1], execs[i]
		if a.WorkID == b.WorkID {
			continue
		}
		between := false
		for _, k := range kills {
			if k.At.After(a.Started.Add(-lostSlack)) && k.At.Before(b.Started) {
				between = true
				break
			}
		}
		if !between {
			what := fmt.Sprintf("%s finished twice with no kill between: on %s (call %s, started %s) and on %s (call %s, started %s)",
				key, a.Worker, a.Call, a.Started.Format(time.StampMilli), b.Worker, b.Call, b.Started.Format(time.StampMilli))
			rep.RanTwice = append(rep.RanTwice, what)
			rep.Failures = append(rep.Failures, "ran twice: "+what)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
