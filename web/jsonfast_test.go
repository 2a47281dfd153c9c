package web

import (
	"encoding/json"
	"testing"
	"time"
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
			var got []byte
			for i, j := range tc.jobs {
				if i > 0 {
					got = append(got, ',')
				}
				got = j.appendJSON(got)
			}
			if "["+string(got)+"]" != string(want) {
				t.Fatalf("got  [%s]\nwant %s", got, want)
			}
			tl := Timeline{From: time.Unix(5, 0).UTC(), Lanes: []Lane{{ID: "w"}}, Jobs: tc.jobs, Truncated: true}
			whole, err := json.Marshal(tl)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := encodeTimeline(tl)
			if err != nil {
				t.Fatal(err)
			}
			if string(raw) != string(whole)+"\n" {
				t.Fatalf("timeline\ngot  %s\nwant %s", raw, whole)
			}
		})
	}
}
