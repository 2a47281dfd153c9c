package stores

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"sealfleet/storiface"
)

// TestRemoteOnFetch checks that RemoteOptions.OnFetch hears of each completed fetch with its size.
func TestRemoteOnFetch(t *testing.T) {
	idx, _, _ := newTestIndex(t)
	a := newTestNode(t, idx, LocalStorageMeta{ID: "a", Weight: 10, CanSeal: true, CanStore: true})
	b := newTestNode(t, idx, LocalStorageMeta{ID: "b", Weight: 10, CanSeal: true, CanStore: true})
	a.put(t, "a", storiface.FTSealed, map[string][]byte{"": pattern(300_000, 1)}, true)
	var mu sync.Mutex
	var sizes []int64
	b.remote = NewRemote(b.local, idx, RemoteOptions{Auth: http.Header{"Authorization": {testToken}},
		Logger: testLogger, OnFetch: func(n int64, d time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			sizes = append(sizes, n)
		}})
	if _, _, err := b.remote.AcquireSector(context.Background(), ref8M, storiface.FTSealed, 0, storiface.PathStorage,
		storiface.AcquireCopy); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sizes) != 1 || sizes[0] < 300_000 {
		t.Fatalf("OnFetch saw %v, want one fetch of at least 300000 bytes", sizes)
	}
}
