package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/stores"
	"sealfleet/storiface"
)

const storageBarWidth = 40

// storageBar draws used (#), reserved (+) and free (.) space of total as a fixed-width bar.
func storageBar(used, reserved, total int64) string {
	if total <= 0 {
		return "[" + strings.Repeat("?", storageBarWidth) + "]"
	}
	u := int(min(max(used, 0), total) * storageBarWidth / total)
	r := int(min(max(reserved, 0), total) * storageBarWidth / total)
	r = min(r, storageBarWidth-u)
	return "[" + strings.Repeat("#", u) + strings.Repeat("+", r) + strings.Repeat(".", storageBarWidth-u-r) + "]"
}

// pathKinds names what a path is for: "seal", "store", "seal+store".
func pathKinds(info storiface.StorageInfo) string {
	var k []string
	if info.CanSeal {
		k = append(k, "seal")
	}
	if info.CanStore {
		k = append(k, "store")
	}
	return strings.Join(k, "+")
}

// renderStorageList prints each path, sorted by ID: kind, weight, health, where it is, and a bar of used (#),
// reserved (+) and free (.) space. With MaxStorage the bar is against the cap and counts the path's own files.
func renderStorageList(w io.Writer, paths []stores.PathStatus, local map[storiface.ID]string) error {
	sorted := append([]stores.PathStatus(nil), paths...)
	sort.Slice(sorted, func(a, b int) bool { return sorted[a].Info.ID < sorted[b].Info.ID })
	if len(sorted) == 0 {
		_, err := fmt.Fprintln(w, "no storage paths attached")
		return err
	}
	for _, p := range sorted {
		health := "ok"
		if !p.Healthy {
			health = "UNHEALTHY"
			if p.HeartbeatErr != "" {
				health += ": " + p.HeartbeatErr
			} else {
				health += ": heartbeat stale"
			}
		}
		fmt.Fprintf(w, "%s  %s  weight %d  files %d  %s\n", p.Info.ID, pathKinds(p.Info), p.Info.Weight, p.Files, health)
		if lp, ok := local[p.Info.ID]; ok {
			fmt.Fprintf(w, "  local: %s\n", lp)
		}
		for _, u := range p.Info.URLs {
			fmt.Fprintf(w, "  url:   %s\n", u)
		}
		st := p.Stat
		total, used := st.Capacity, st.Capacity-st.Available
		if st.Max > 0 && (st.Max < total || total == 0) {
			total, used = st.Max, st.Used
		}
		fmt.Fprintf(w, "  %s %s used, %s reserved, %s free of %s\n", storageBar(used, st.Reserved, total),
			stores.FormatBytes(used), stores.FormatBytes(st.Reserved), stores.FormatBytes(st.FSAvailable), stores.FormatBytes(total))
		if len(p.Info.Groups) > 0 || len(p.Info.AllowTo) > 0 {
			fmt.Fprintf(w, "  groups: %s  allow-to: %s\n", listOrDash(p.Info.Groups), listOrDash(p.Info.AllowTo))
		}
		filters := []struct {
			name string
			list []string
		}{{"allow types", p.Info.AllowTypes}, {"deny types", p.Info.DenyTypes}, {"allow miners", p.Info.AllowMiners}, {"deny miners", p.Info.DenyMiners}}
		for _, f := range filters {
			if len(f.list) > 0 {
				fmt.Fprintf(w, "  %s: %s\n", f.name, strings.Join(f.list, ","))
			}
		}
	}
	return nil
}

func listOrDash(l []string) string {
	if len(l) == 0 {
		return "-"
	}
	return strings.Join(l, ",")
}

// sectorLocation is one path holding files of a sector, as `storage find` shows it.
type sectorLocation struct {
	ID        storiface.ID
	Types     string
	Primary   string
	Weight    uint64
	CanSeal   bool
	CanStore  bool
	LocalPath string   `json:",omitempty"`
	URLs      []string `json:",omitempty"`
}

// sectorLocations folds per-type FindSector answers into one entry per path, sorted by ID.
func sectorLocations(byType map[storiface.SectorFileType][]storiface.SectorStorageInfo, local map[storiface.ID]string) []sectorLocation {
	types := map[storiface.ID]storiface.SectorFileType{}
	primary := map[storiface.ID]storiface.SectorFileType{}
	info := map[storiface.ID]storiface.SectorStorageInfo{}
	for t, found := range byType {
		for _, si := range found {
			types[si.ID] |= t
			if si.Primary {
				primary[si.ID] |= t
			}
			info[si.ID] = si
		}
	}
	out := make([]sectorLocation, 0, len(types))
	for id, t := range types {
		si := info[id]
		loc := sectorLocation{ID: id, Types: t.String(), Primary: primary[id].String(), Weight: si.Weight,
			CanSeal: si.CanSeal, CanStore: si.CanStore, LocalPath: local[id], URLs: si.BaseURLs}
		out = append(out, loc)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out
}

// renderSectorLocations prints where a sector's files are.
func renderSectorLocations(w io.Writer, s abi.SectorID, locs []sectorLocation) error {
	if len(locs) == 0 {
		_, err := fmt.Fprintf(w, "no files of %s are declared\n", storiface.SectorName(s))
		return err
	}
	for _, l := range locs {
		kind := pathKinds(storiface.StorageInfo{CanSeal: l.CanSeal, CanStore: l.CanStore})
		fmt.Fprintf(w, "%s  %s\n  types:   %s\n  primary: %s\n", l.ID, kind, l.Types, l.Primary)
		if l.LocalPath != "" {
			fmt.Fprintf(w, "  local:   %s\n", l.LocalPath)
		}
		for _, u := range l.URLs {
			fmt.Fprintf(w, "  url:     %s\n", u)
		}
	}
	return nil
}

// renderLocks prints one row per locked sector with, per file type, "W" (written), "R<n>" (n readers) or "-".
func renderLocks(w io.Writer, locks storiface.SectorLocks) error {
	if len(locks.Locks) == 0 {
		_, err := fmt.Fprintln(w, "no sector locks held")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := []string{"SECTOR"}
	for _, t := range storiface.PathTypes {
		head = append(head, strings.ToUpper(t.String()))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, l := range locks.Locks {
		row := []string{storiface.SectorName(l.Sector)}
		for k := range storiface.PathTypes {
			switch {
			case l.Write[k] > 0:
				row = append(row, "W")
			case l.Read[k] > 0:
				row = append(row, fmt.Sprintf("R%d", l.Read[k]))
			default:
				row = append(row, "-")
			}
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}
