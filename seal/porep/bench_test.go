package porep

import (
	"context"
	"path/filepath"
	"testing"

	"sealfleet/seal/sdr"
)

// BenchmarkPreCommit2_8MiB runs PC2 over random labels for an 8MiB sector
// (262144 nodes, 2 layers).
func BenchmarkPreCommit2_8MiB(b *testing.B) {
	cfg := sdr.Config{Nodes: 8 << 20 / 32, Layers: 2, Version: sdr.V1_1}
	cache, unsealed, _, _ := fakeSectorTB(b, cfg, 1)
	sealed := filepath.Join(filepath.Dir(cache), "sealed")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := PreCommit2(context.Background(), cfg, cache, unsealed, sealed, [32]byte{}); err != nil {
			b.Fatal(err)
		}
	}
}
