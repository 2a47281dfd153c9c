// Package metrics holds sealfleet's Prometheus metrics in a registry of their own (never the global one), with
// one method per thing the other packages report: the scheduler (queue length, scheduling wait, worker
// resources), the manager (task durations, call-tracker states), the stores (fetches) and the pipeline (sectors
// per state). Handler serves them at /metrics.
//
// Every method is safe for concurrent use and does nothing on a nil *Metrics, so a component built without
// metrics can call them unconditionally.
package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"sealfleet/storiface"
)

// Namespace prefixes every sealfleet metric name.
const Namespace = "sealfleet"

// Metrics is the set of sealfleet metrics and the registry that holds them.
type Metrics struct {
	reg *prometheus.Registry

	queueLength  *prometheus.GaugeVec
	schedWait    *prometheus.HistogramVec
	taskDuration *prometheus.HistogramVec
	tasksDone    *prometheus.CounterVec

	workerCPUUsed, workerCPUTotal *prometheus.GaugeVec
	workerMemUsed, workerMemTotal *prometheus.GaugeVec
	workerGPUUsed, workerGPUTotal *prometheus.GaugeVec
	workerEnabled                 *prometheus.GaugeVec

	fetchBytes    prometheus.Counter
	fetchDuration prometheus.Histogram

	callStates   *stateGauge
	sectorStates *stateGauge
}

// Bucket layouts, in seconds. Sealing tasks run from a second (AP of a small sector) to a day (PC1 of 64 GiB);
// a scheduling wait from milliseconds to hours; a fetch from 100 ms to an hour (a 64 GiB sealed file).
var (
	taskBuckets  = prometheus.ExponentialBuckets(1, 2.5, 14)   // 1 s … 41 h
	waitBuckets  = prometheus.ExponentialBuckets(0.01, 3, 14)  // 10 ms … 4.4 h
	fetchBuckets = prometheus.ExponentialBuckets(0.1, 2.5, 12) // 100 ms … 40 min
)

// New returns a fresh set of metrics registered in its own registry, together with the Go runtime and process
// collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, labels)
		m.reg.MustRegister(g)
		return g
	}
	m.queueLength = gauge("sched_queue_length", "Requests waiting in the scheduler queue, per task type.", "task")
	m.schedWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "sched_wait_seconds",
		Help: "Time from a request entering the scheduler queue to its assignment to a worker.", Buckets: waitBuckets}, []string{"task"})
	m.taskDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "task_duration_seconds",
		Help: "Run time of finished sealing tasks, per task type and worker.", Buckets: taskBuckets}, []string{"task", "worker"})
	m.tasksDone = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "tasks_done_total",
		Help: "Sealing tasks finished, per task type, worker and outcome (ok or error)."}, []string{"task", "worker", "outcome"})
	m.reg.MustRegister(m.schedWait, m.taskDuration, m.tasksDone)

	m.workerCPUUsed = gauge("worker_cpu_used", "CPU threads reserved by running tasks.", "worker")
	m.workerCPUTotal = gauge("worker_cpu_total", "CPU threads the worker has.", "worker")
	m.workerMemUsed = gauge("worker_memory_used_bytes", "Memory reserved by running tasks and other processes.", "worker")
	m.workerMemTotal = gauge("worker_memory_total_bytes", "Physical memory plus swap of the worker.", "worker")
	m.workerGPUUsed = gauge("worker_gpu_used", "GPUs reserved by running tasks (fractions allowed).", "worker")
	m.workerGPUTotal = gauge("worker_gpu_total", "GPUs the worker has.", "worker")
	m.workerEnabled = gauge("worker_enabled", "1 if the worker takes new tasks, 0 if disabled.", "worker")

	m.fetchBytes = prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "fetch_bytes_total",
		Help: "Bytes of sector files fetched from other nodes."})
	m.fetchDuration = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Name: "fetch_duration_seconds",
		Help: "Duration of sector file fetches from other nodes.", Buckets: fetchBuckets})
	m.reg.MustRegister(m.fetchBytes, m.fetchDuration)

	m.callStates = newStateGauge(gauge("calls", "Tracked worker calls per call-tracker state.", "state"))
	m.sectorStates = newStateGauge(gauge("sectors", "Sectors per pipeline state.", "state"))

	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry, for tests and for registering a component's own collectors.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler serves the metrics in the Prometheus text or OpenMetrics format. A nil *Metrics serves 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, EnableOpenMetrics: true})
}

// SetQueueLength records how many requests of a task type wait in the scheduler queue.
func (m *Metrics) SetQueueLength(task storiface.TaskType, n int) {
	if m == nil {
		return
	}
	m.queueLength.WithLabelValues(task.Short()).Set(float64(n))
}

// ObserveSchedWait records the time a request of a task type waited between queueing and assignment.
func (m *Metrics) ObserveSchedWait(task storiface.TaskType, d time.Duration) {
	if m == nil {
		return
	}
	m.schedWait.WithLabelValues(task.Short()).Observe(d.Seconds())
}

// ObserveTaskDone records a task that finished successfully and its run time on the worker (by name).
func (m *Metrics) ObserveTaskDone(task storiface.TaskType, worker string, d time.Duration) {
	if m == nil {
		return
	}
	m.taskDuration.WithLabelValues(task.Short(), worker).Observe(d.Seconds())
	m.tasksDone.WithLabelValues(task.Short(), worker, "ok").Inc()
}

// ObserveTaskFailed records a task that ended in an error on the worker (by name).
func (m *Metrics) ObserveTaskFailed(task storiface.TaskType, worker string) {
	if m == nil {
		return
	}
	m.tasksDone.WithLabelValues(task.Short(), worker, "error").Inc()
}

// AddFetch records one fetch of sector files: the bytes moved and how long it took.
func (m *Metrics) AddFetch(bytes int64, d time.Duration) {
	if m == nil {
		return
	}
	if bytes > 0 {
		m.fetchBytes.Add(float64(bytes))
	}
	m.fetchDuration.Observe(d.Seconds())
}

// WorkerResources is a worker's resource use as the scheduler accounts it.
type WorkerResources struct {
	CPUUsed, CPUTotal uint64
	MemUsed, MemTotal uint64 // bytes
	GPUUsed           float64
	GPUTotal          int
	Enabled           bool
}

// SetWorkerResources records a worker's resource use, labelled by the worker's name.
func (m *Metrics) SetWorkerResources(worker string, r WorkerResources) {
	if m == nil {
		return
	}
	m.workerCPUUsed.WithLabelValues(worker).Set(float64(r.CPUUsed))
	m.workerCPUTotal.WithLabelValues(worker).Set(float64(r.CPUTotal))
	m.workerMemUsed.WithLabelValues(worker).Set(float64(r.MemUsed))
	m.workerMemTotal.WithLabelValues(worker).Set(float64(r.MemTotal))
	m.workerGPUUsed.WithLabelValues(worker).Set(r.GPUUsed)
	m.workerGPUTotal.WithLabelValues(worker).Set(float64(r.GPUTotal))
	enabled := 0.0
	if r.Enabled {
		enabled = 1
	}
	m.workerEnabled.WithLabelValues(worker).Set(enabled)
}

// RemoveWorker drops a departed worker's resource series so that it stops being reported. Its task duration
// history stays.
func (m *Metrics) RemoveWorker(worker string) {
	if m == nil {
		return
	}
	for _, g := range []*prometheus.GaugeVec{m.workerCPUUsed, m.workerCPUTotal, m.workerMemUsed, m.workerMemTotal,
		m.workerGPUUsed, m.workerGPUTotal, m.workerEnabled} {
		g.DeleteLabelValues(worker)
	}
}

// SetCallStates records the number of tracked calls in each call-tracker state. States reported before and
// missing now are set to 0.
func (m *Metrics) SetCallStates(counts map[string]int) {
	if m == nil {
		return
	}
	m.callStates.set(counts)
}

// SetSectorStates records the number of sectors in each pipeline state. States reported before and missing
// now are set to 0.
func (m *Metrics) SetSectorStates(counts map[string]int) {
	if m == nil {
		return
	}
	m.sectorStates.set(counts)
}

// stateGauge is a gauge per state that is replaced as a whole: a state that disappears reads 0 rather than its
// last value.
type stateGauge struct {
	mu   sync.Mutex
	vec  *prometheus.GaugeVec
	seen map[string]struct{}
}

func newStateGauge(vec *prometheus.GaugeVec) *stateGauge {
	return &stateGauge{vec: vec, seen: map[string]struct{}{}}
}

func (s *stateGauge) set(counts map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for st := range s.seen {
		if _, ok := counts[st]; !ok {
			s.vec.WithLabelValues(st).Set(0)
		}
	}
	for st, n := range counts {
		s.seen[st] = struct{}{}
		s.vec.WithLabelValues(st).Set(float64(n))
	}
}
