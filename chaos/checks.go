package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/internal/procs"
	"sealfleet/pipeline"
	"sealfleet/seal/native"
	"sealfleet/storiface"
)

// waitProving polls until every sector in nums is Proving (an error at once if one gives up, or when timeout
// passes) and returns the last listing.
func (c *cluster) waitProving(ctx context.Context, nums []abi.SectorNumber, timeout time.Duration) ([]pipeline.SectorInfo, error) {
	var last []pipeline.SectorInfo
	err := procs.Poll(ctx, fmt.Sprintf("%d sectors Proving", len(nums)), timeout, 250*time.Millisecond, func() (bool, error) {
		list, err := c.sectors.SectorsList(ctx)
		if err != nil {
			return false, err // the manager may be restarting
		}
		last = list
		want := map[abi.SectorNumber]bool{}
		for _, n := range nums {
			want[n] = true
		}
		for _, s := range list {
			if want[s.Number] && s.GaveUp { // no retry is coming: stop waiting
				return false, procs.Fatal{Msg: fmt.Sprintf("sector %d gave up in %s: %s", s.Number, s.State, strings.TrimSpace(s.LastError))}
			}
			if want[s.Number] && s.State == pipeline.Proving {
				delete(want, s.Number)
			}
		}
		return len(want) == 0, nil
	})
	return last, err
}

// check runs every post-run check and records the outcome in rep.
func (c *cluster) check(ctx context.Context, list []pipeline.SectorInfo, rep *Report) {
	for i := range list {
		s := &list[i]
		if s.State != pipeline.Proving {
			continue
		}
		rep.Proving++
		if err := verifyProof(s); err != nil {
			rep.Failures = append(rep.Failures, err.Error())
			continue
		}
		rep.ProofsVerified++
	}
	records, err := c.readExecutions(ctx)
	if err != nil {
		rep.Failures = append(rep.Failures, fmt.Sprintf("reading the execution records: %v", err))
	} else {
		auditExecutions(records, rep.Kills, rep)
	}
	if err := c.checkReservations(ctx, rep); err != nil {
		rep.Failures = append(rep.Failures, err.Error())
	}
	roots := []string{c.repo}
	for _, name := range c.workerNames {
		roots = append(roots, c.workerRepos[name])
	}
	for _, r := range roots {
		rep.TempFiles = append(rep.TempFiles, tempFiles(r)...)
	}
	if len(rep.TempFiles) > 0 {
		rep.Failures = append(rep.Failures, fmt.Sprintf("%d temporary files left behind", len(rep.TempFiles)))
	}
}

// verifyProof checks a Proving sector's proof against its public inputs (what `proofs verify` checks).
func verifyProof(s *pipeline.SectorInfo) error {
	commD, commR, err := native.Commitments(storiface.SectorCids{Unsealed: s.CommD, Sealed: s.CommR})
	if err != nil {
		return fmt.Errorf("sector %d: commitments: %w", s.Number, err)
	}
	pub := native.PublicInputs{Sector: s.Ref(chaosMiner), CommD: commD, CommR: commR}
	copy(pub.Ticket[:], s.Ticket)
	copy(pub.Seed[:], s.Seed)
	if err := native.VerifyVanillaProof(s.Proof, pub); err != nil {
		return fmt.Errorf("sector %d: proof does not verify: %w", s.Number, err)
	}
	return nil
}

// checkReservations asks every node holding a path, over its /remote/stat endpoint, for the path's figures:
// with every sector Proving and nothing running, nothing may still be reserved.
func (c *cluster) checkReservations(ctx context.Context, rep *Report) error {
	list, err := c.mgr.StorageList(ctx)
	if err != nil {
		return fmt.Errorf("listing storage: %w", err)
	}
	for id := range list {
		si, err := c.mgr.StorageInfo(ctx, id)
		if err != nil {
			return fmt.Errorf("storage %s: %w", id, err)
		}
		for _, u := range si.URLs {
			st, err := c.statPath(ctx, u, id)
			if err != nil {
				return err
			}
			rep.PathsChecked++
			rep.LeakedReservedBytes += st.Reserved
		}
	}
	if rep.PathsChecked == 0 {
		return fmt.Errorf("no storage path could be checked for leaked reservations")
	}
	if rep.LeakedReservedBytes != 0 {
		return fmt.Errorf("%d bytes still reserved after every sector reached Proving", rep.LeakedReservedBytes)
	}
	return nil
}

// statPath GETs <u>/stat/<id> with the admin token.
func (c *cluster) statPath(ctx context.Context, u string, id storiface.ID) (storiface.FsStat, error) {
	var st storiface.FsStat
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+"/stat/"+string(id), nil)
	if err != nil {
		return st, err
	}
	req.Header = c.info.Header()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, fmt.Errorf("stat of path %s at %s: %w", id, u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("stat of path %s at %s: status %d", id, u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("stat of path %s at %s: %w", id, u, err)
	}
	return st, nil
}

// tempFiles lists call temporaries (".sealfleet-tmp"), fetch temporaries (files under "fetching/") and other
// ".tmp" files under root.
func tempFiles(root string) []string {
	var out []string
	sep := string(filepath.Separator)
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if strings.HasSuffix(p, ".sealfleet-tmp") || strings.HasSuffix(p, ".tmp") ||
			(!d.IsDir() && strings.Contains(p, sep+"fetching"+sep)) {
			out = append(out, p)
		}
		return nil
	})
	return out
}
