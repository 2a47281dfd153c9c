package fetchbench

import (
	"context"
	"testing"
)

func TestRunSmall(t *testing.T) {
	res, err := Run(context.Background(), Config{Dir: t.TempDir(), Size: 3 << 20, Runs: 2, Streams: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.FetchMBps <= 0 || res.CopyMBps <= 0 || res.ReadWriteMBps <= 0 || res.FetchOverCopy <= 0 {
		t.Fatalf("result %+v", res)
	}
	if _, err := Run(context.Background(), Config{Dir: t.TempDir(), Size: 0, Runs: 1, Streams: 1}); err == nil {
		t.Fatal("size 0 accepted")
	}
}
