package sdr

import (
	"bytes"
	"strconv"
	"time"
)

// userHZ is the unit of /proc/stat's times (USER_HZ, 100 on every Linux architecture Go supports).
const userHZ = 100

// parseProcStat reads the aggregate "cpu" line of /proc/stat (user nice system idle iowait irq softirq steal …,
// in USER_HZ ticks) and returns its steal time and its busy time (user, nice, system, irq and softirq).
func parseProcStat(data []byte) (steal, busy time.Duration, ok bool) {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	fields := bytes.Fields(line)
	if len(fields) < 9 || string(fields[0]) != "cpu" {
		return 0, 0, false
	}
	var ticks [8]uint64
	for i := range ticks {
		v, err := strconv.ParseUint(string(fields[i+1]), 10, 64)
		if err != nil {
			return 0, 0, false
		}
		ticks[i] = v
	}
	tick := time.Second / userHZ
	return time.Duration(ticks[7]) * tick, time.Duration(ticks[0]+ticks[1]+ticks[2]+ticks[5]+ticks[6]) * tick, true
}

// stealMeter accumulates the hypervisor's steal over measured intervals (hostCPUTimes).
type stealMeter struct {
	steal0, busy0 time.Duration
	steal, busy   time.Duration
	ok            bool
}

// start begins an interval.
func (m *stealMeter) start() { m.steal0, m.busy0, m.ok = hostCPUTimes() }

// stop ends an interval and adds it.
func (m *stealMeter) stop() {
	steal, busy, ok := hostCPUTimes()
	if !ok || !m.ok {
		m.ok = false
		return
	}
	m.steal += steal - m.steal0
	m.busy += busy - m.busy0
}

// percent is the share of the time the machine's CPUs had work that the hypervisor gave to other guests
// (steal / (steal + busy)) over the intervals, or -1 if it was not measured. Idle CPUs are left out: an idle
// virtual CPU is never stolen from.
func (m *stealMeter) percent() float64 {
	if !m.ok || m.steal+m.busy <= 0 {
		return -1
	}
	return 100 * float64(m.steal) / float64(m.steal+m.busy)
}
