package sched

import (
	"context"
	"fmt"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// taskSelector accepts every worker that lists the task type; it needs no storage.
type taskSelector struct{}

// NewTaskSelector returns a selector that accepts any worker supporting the task type (used for C2, where no
// sector file is needed on the worker).
func NewTaskSelector() Selector { return taskSelector{} }

var (
	_ Selector = taskSelector{}
	_ Keyed    = taskSelector{}
)

// Filter implements Selector.
func (taskSelector) Filter(_ context.Context, task storiface.TaskType, _ abi.RegisteredSealProof, w *WorkerHandle) (bool, string, error) {
	if !w.Supports(task) {
		return false, fmt.Sprintf("task type %s not in the worker's task list", task.Short()), nil
	}
	return true, "", nil
}

// Score implements Selector: every accepted worker is as good (the assigner ranks them by load).
func (taskSelector) Score(context.Context, storiface.TaskType, abi.RegisteredSealProof, *WorkerHandle) float64 {
	return 1
}

// Key implements Keyed.
func (taskSelector) Key() string { return "task" }
