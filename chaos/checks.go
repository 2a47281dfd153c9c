package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/pipeline"
	"sealfleet/seal/native"
	"sealfleet/storiface"
)

// waitProving polls until every sector in nums is Proving (an error if one gives up or timeout passes) and
// returns the last listing.
func (c *cluster) waitProving(ctx context.Context, nums []abi.SectorNumber, timeout time.Duration) ([]pipeline.SectorInfo, error) {
	var last []pipeline.SectorInfo
	err := poll(ctx, fmt.Sprintf("%d sectors Proving", len(nums)), timeout, 250*time.Millisecond, func() (bool, error) {
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
			if want[s.Number] && s.GaveUp {
				return false, fmt.Errorf("sector %d gave up in %s: %s", s.Number, s.State, strings.TrimSpace(s.LastError))
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
	for _, name := range c.workerNames {
		if err := countPC1Runs(c.procs[name].log, rep.PC1Runs, rep.PC1CutByKill); err != nil {
			rep.Failures = append(rep.Failures, err.Error())
		}
	}
	for sector, n := range rep.PC1Runs {
		if n-rep.PC1CutByKill[sector] > 1 {
			rep.DoubleRuns = append(rep.DoubleRuns, sector)
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s: PreCommit1 ran to the end %d times, %d of them in a worker killed afterwards",
				sector, n, rep.PC1CutByKill[sector]))
		}
	}
	sort.Strings(rep.DoubleRuns)
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

// labelledRe matches the native sealer's log line for the last SDR layer (layer 2 of the 2KiB/8MiB/512MiB
// sizes): the end of one PreCommit1 execution.
// Both the default slog format (`INFO layer labelled component=sdr dir=…`) and the text handler's
// (`msg="layer labelled" … dir=…`) match.
// The line's time is captured when the default format gives it (group 1), the sector name always (group 2).
var labelledRe = regexp.MustCompile(`(?m)^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d)?.*layer labelled"? .*dir=\S*/(s-t0\d+-\d+)\S* layer=2\b`)

// logTimeLayout is the time format of slog's default handler.
const logTimeLayout = "2006/01/02 15:04:05"

// cutWindow is how long before a kill an execution's last layer may have been logged for the kill to have cut it
// off before its result was saved and returned (that takes milliseconds; log times have one-second resolution).
const cutWindow = 3 * time.Second

// countPC1Runs adds to runs, per sector name, the PreCommit1 executions in a worker log that reached their last
// layer, and to cut those among them that a kill may have stopped before their result was saved: the ones logged
// within cutWindow before the kill that ended their process. Each of those excuses one re-run, so a sector ran
// twice for sure when runs − cut > 1: work recomputed because a restart (of the manager, or of a worker that had
// already saved the result) lost track of a call.
func countPC1Runs(log string, runs, cut map[string]int) error {
	b, err := os.ReadFile(log)
	if err != nil {
		return fmt.Errorf("reading a worker log: %w", err)
	}
	lives := strings.Split(string(b), killMarker)
	for i, life := range lives {
		var killedAt time.Time
		if i+1 < len(lives) { // ended by a kill: its time opens the next part
			f := strings.Fields(lives[i+1])
			if len(f) > 0 {
				killedAt, _ = time.Parse(time.RFC3339Nano, f[0])
			}
		}
		for _, m := range labelledRe.FindAllStringSubmatch(life, -1) {
			runs[m[2]]++
			at, err := time.ParseInLocation(logTimeLayout, m[1], time.Local)
			if !killedAt.IsZero() && (err != nil || killedAt.Sub(at) < cutWindow) {
				cut[m[2]]++
			}
		}
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
