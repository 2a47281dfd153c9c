package piecebench

import "testing"

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		bad  bool
	}{
		{"512MiB", 512 << 20, false},
		{"1GiB", 1 << 30, false},
		{"4KiB", 4 << 10, false},
		{"1048576", 1 << 20, false},
		{"0", 0, true},
		{"12XB", 0, true},
		{"-1MiB", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseSize(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v", tc.in, got, err)
		}
	}
}

// TestRunSmall runs the whole measurement on 1 MiB; it checks wiring, not speed.
func TestRunSmall(t *testing.T) {
	res, err := Run(1<<20, 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.CommP1Core <= 0 || res.Hashhash1Core <= 0 || res.Fr32Pad2Cores <= 0 || res.Ratio1Core <= 0 {
		t.Fatalf("missing figures: %+v", res)
	}
	if _, err := Run(1000, 1); err == nil {
		t.Fatal("tiny size: want error")
	}
}

func TestRunWithProgressStepsMatchSteps(t *testing.T) {
	var n int
	if _, err := RunWithProgress(1<<20, 1, func() { n++ }); err != nil {
		t.Fatal(err)
	}
	if n != Steps(1) {
		t.Fatalf("step called %d times, Steps(1) = %d", n, Steps(1))
	}
}
