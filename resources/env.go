package resources

import (
	"fmt"
	"sort"
	"strconv"

	"sealfleet/storiface"
)

// Lookup reads one environment variable; os.LookupEnv fits. The core never reads the process environment itself.
type Lookup func(key string) (string, bool)

// field describes one overridable column of a Resources row.
type field struct {
	env string
	get func(r *storiface.Resources) string
	set func(r *storiface.Resources, v string) error
}

func uintField(env string, p func(r *storiface.Resources) *uint64) field {
	return field{env: env,
		get: func(r *storiface.Resources) string { return strconv.FormatUint(*p(r), 10) },
		set: func(r *storiface.Resources, v string) error {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return fmt.Errorf("want an unsigned integer number of bytes")
			}
			*p(r) = n
			return nil
		}}
}

func intField(env string, min int, p func(r *storiface.Resources) *int) field {
	return field{env: env,
		get: func(r *storiface.Resources) string { return strconv.Itoa(*p(r)) },
		set: func(r *storiface.Resources, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < min {
				return fmt.Errorf("want an integer >= %d", min)
			}
			*p(r) = n
			return nil
		}}
}

// fields lists the env names of the Resources columns, as the reference names them.
var fields = []field{
	uintField("MIN_MEMORY", func(r *storiface.Resources) *uint64 { return &r.MinMemory }),
	uintField("MAX_MEMORY", func(r *storiface.Resources) *uint64 { return &r.MaxMemory }),
	{env: "GPU_UTILIZATION",
		get: func(r *storiface.Resources) string { return strconv.FormatFloat(r.GPUUtilization, 'g', -1, 64) },
		set: func(r *storiface.Resources, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f != f {
				return fmt.Errorf("want a number >= 0 (fraction of GPUs)")
			}
			r.GPUUtilization = f
			return nil
		}},
	intField("MAX_PARALLELISM", -1, func(r *storiface.Resources) *int { return &r.MaxParallelism }),
	intField("MAX_PARALLELISM_GPU", -1, func(r *storiface.Resources) *int { return &r.MaxParallelismGPU }),
	uintField("BASE_MIN_MEMORY", func(r *storiface.Resources) *uint64 { return &r.BaseMinMemory }),
	intField("MAX_CONCURRENT", 0, func(r *storiface.Resources) *int { return &r.MaxConcurrent }),
}

// FieldNames lists the accepted <FIELD> parts of override variables.
func FieldNames() []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.env
	}
	return out
}

// ApplyEnv returns a copy of base with environment overrides applied. For each task type (short name, e.g. PC2),
// sector size (2K, 8M, 512M, 32G, 64G) and field, `<TASK>_<SIZE>_<FIELD>` wins over `<TASK>_<FIELD>`, which wins
// over the table (e.g. PC2_32G_MAX_MEMORY=16106127360, C2_MAX_CONCURRENT=1). As in the reference, when PC1 and
// UNS have no MAX_PARALLELISM override and FIL_PROOFS_USE_MULTICORE_SDR=1, they take producers+1 threads
// (FIL_PROOFS_MULTICORE_SDR_PRODUCERS, default 3). A value that does not parse is an error naming the variable;
// base is never modified.
func ApplyEnv(base Table, lookup Lookup) (Table, error) {
	out := base.Clone()
	sdrThreads, sdrSet, err := multicoreSDRThreads(lookup)
	if err != nil {
		return nil, err
	}
	for _, tt := range sortedTasks(out) {
		m := out[tt]
		for _, spt := range sortedProofs(m) {
			r := m[spt]
			size, err := SizeShort(spt)
			if err != nil {
				return nil, err
			}
			for _, f := range fields {
				names := []string{tt.Short() + "_" + size + "_" + f.env, tt.Short() + "_" + f.env}
				found := false
				for _, name := range names {
					v, ok := lookup(name)
					if !ok {
						continue
					}
					if err := f.set(&r, v); err != nil {
						return nil, fmt.Errorf("env %s=%q: %w", name, v, err)
					}
					found = true
					break
				}
				if !found && sdrSet && f.env == "MAX_PARALLELISM" &&
					(tt == storiface.TTPreCommit1 || tt == storiface.TTUnseal) {
					r.MaxParallelism = sdrThreads
				}
			}
			m[spt] = r
		}
	}
	return out, nil
}

// multicoreSDRThreads implements the reference's multicore-SDR rule: producers + the one core doing the hashing.
func multicoreSDRThreads(lookup Lookup) (int, bool, error) {
	if v, _ := lookup("FIL_PROOFS_USE_MULTICORE_SDR"); v != "1" {
		return 0, false, nil
	}
	producers := 3
	if v, ok := lookup("FIL_PROOFS_MULTICORE_SDR_PRODUCERS"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, false, fmt.Errorf("env FIL_PROOFS_MULTICORE_SDR_PRODUCERS=%q: want an integer >= 0", v)
		}
		producers = n
	}
	return producers + 1, true, nil
}

// EnvVar is one `NAME=VALUE` line of a table as `sealfleet worker resources` prints it.
type EnvVar struct {
	Name  string
	Value string
}

// EnvVars renders t as size-specific override variables, one per (task type, size, field), sorted by task order,
// size and field. Sizes are read from the V1_1 rows (what new sectors use); the other families share them.
func EnvVars(t Table) []EnvVar {
	var out []EnvVar
	for _, tt := range sortedTasks(t) {
		for _, base := range baseProofs {
			spt := base + 5
			r, ok := t[tt][spt]
			if !ok {
				continue
			}
			size, err := SizeShort(spt)
			if err != nil {
				continue
			}
			for _, f := range fields {
				out = append(out, EnvVar{Name: tt.Short() + "_" + size + "_" + f.env, Value: f.get(&r)})
			}
		}
	}
	return out
}

// DiffEnvVars returns the variables of t whose value differs from base (the overrides in force).
func DiffEnvVars(t, base Table) []EnvVar {
	b := map[string]string{}
	for _, v := range EnvVars(base) {
		b[v.Name] = v.Value
	}
	var out []EnvVar
	for _, v := range EnvVars(t) {
		if b[v.Name] != v.Value {
			out = append(out, v)
		}
	}
	return out
}

// sortedTasks returns the task types of t in scheduling order, unknown ones last by name.
func sortedTasks(t Table) []storiface.TaskType {
	out := make([]storiface.TaskType, 0, len(t))
	for tt := range t {
		out = append(out, tt)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}
