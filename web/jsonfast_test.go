package web

import (
	"encoding/json"
	"testing"
)

// TestTimelineJobsJSON checks the hand-written encoder against encoding/json on awkward values.
func TestTimelineJobsJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		jobs []TimelineJob
	}{
		{"empty", []TimelineJob{}},
		{"plain", []TimelineJob{{ID: "a", Task: "PC1", Worker: "w", Sector: "s-t01000-1", Queued: 1, Start: 2, End: 3}}},
		{"waiting", []TimelineJob{{ID: "b", Task: "C2", Queued: 1700000000000}}},
		{"failed", []TimelineJob{{ID: "c", Failed: true, Message: "storage: \"full\"\n\tpath <a&b>\\ \x01 \u2028 é 日本 \xff"}}},
		{"two", []TimelineJob{{ID: "x", Queued: -5}, {ID: "y", End: 9}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(tc.jobs)
			if err != nil {
				t.Fatal(err)
			}
			got, err := timelineJobs(tc.jobs).MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
		})
	}
}
