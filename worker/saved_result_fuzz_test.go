package worker

import (
	"context"
	"sort"
	"testing"

	"sealfleet/storiface"
	"sealfleet/worker/workertest"
)

// FuzzSavedResultReturn feeds arbitrary bytes, as a damaged worker_calls row would hold them, to the return path
// of every ReturnType: decoding must not panic, and a result that does not decode must still reach the manager —
// as an error — so the waiting operation is released instead of the return being retried forever.
func FuzzSavedResultReturn(f *testing.F) {
	var types []string
	for rt := range returnFuncs {
		types = append(types, string(rt))
	}
	sort.Strings(types)
	for i := range types {
		f.Add(uint8(i), []byte(`{"Size":2048,"PieceCID":{"/":"baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy"}}`))
		f.Add(uint8(i), []byte(`"AQID"`))
		f.Add(uint8(i), []byte(`{"Unsealed":{"/":"x"}}`))
		f.Add(uint8(i), []byte{0xff, 0x00})
	}
	id := storiface.NewCallID(storiface.SectorRef{}.ID)
	f.Fuzz(func(t *testing.T, which uint8, res []byte) {
		rt := ReturnType(types[int(which)%len(types)])
		ret := workertest.NewReturns()
		if err := returnFuncs[rt](context.Background(), ret, id, res, nil); err != nil {
			t.Fatalf("%s: return failed: %v", rt, err)
		}
		got := ret.Got(id)
		if len(got) != 1 {
			t.Fatalf("%s: %d returns recorded, want 1", rt, len(got))
		}
	})
}
