package native

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"sealfleet/seal/porep"
	"sealfleet/seal/sdr"
	"sealfleet/storiface"
)

// FinalizeSector keeps only what proving needs in the cache directory — tree_r_last, p_aux and t_aux — and
// removes the layers, tree_c, tree_d and leftovers of interrupted steps. It refuses a sector whose PC2 has not
// completed, so it can never destroy sealing work in progress.
func (b *Backend) FinalizeSector(ctx context.Context, sector storiface.SectorRef, paths storiface.SectorPaths) error {
	cfg, err := sdr.ConfigFor(sector.ProofType)
	if err != nil {
		return err
	}
	if paths.Cache == "" {
		return fmt.Errorf("finalize %s: no cache path acquired", sector)
	}
	_, shapeR, err := porep.Shapes(cfg)
	if err != nil {
		return err
	}
	if _, err := porep.ReadPAux(paths.Cache); err != nil {
		return storiface.Err(storiface.ErrBadInput, fmt.Errorf("finalize %s: sector is not sealed (PC2 incomplete): %w", sector, err))
	}
	for _, p := range porep.TreeRLastPaths(paths.Cache, shapeR) {
		if _, err := os.Stat(p); err != nil {
			return storiface.Err(storiface.ErrBadInput, fmt.Errorf("finalize %s: tree_r_last missing: %w", sector, err))
		}
	}
	var drop []string
	for l := 1; l <= cfg.Layers; l++ {
		drop = append(drop, filepath.Join(paths.Cache, sdr.LayerFileName(l)))
	}
	drop = append(drop, porep.TreeDPath(paths.Cache))
	drop = append(drop, porep.TreeCPaths(paths.Cache, shapeR)...)
	tmps, _ := filepath.Glob(filepath.Join(paths.Cache, "*.tmp*"))
	drop = append(drop, tmps...)
	for _, p := range drop {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("finalize %s: %w", sector, err)
		}
	}
	return nil
}
