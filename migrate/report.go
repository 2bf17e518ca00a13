package migrate

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// WriteStatus prints progress: groups, photos, the queue's pending and
// dead-lettered jobs, rate, ETA.
func WriteStatus(w io.Writer, st Stats, pending, dead int) {
	fmt.Fprintf(w, "groups:  %d of %d done\n", st.GroupsDone, st.Groups)
	fmt.Fprintf(w, "photos:  %d of %d done, %d converted awaiting deletes\n", st.Done, st.Photos, st.Converted)
	fmt.Fprintf(w, "queue:   %d queued or in flight, %d dead-lettered (failed too often; see the workers' logs)\n", pending, dead)
	if span := st.LastUpdate.Sub(st.FirstUpdate); span > 0 && st.Done > 0 {
		rate := float64(st.Done) / span.Seconds()
		left := st.Photos - st.Done
		fmt.Fprintf(w, "rate:    %.1f photos/s; ETA %s\n", rate, (time.Duration(float64(left)/rate) * time.Second).Round(time.Second))
	}
}

// WriteReport prints what the story reported: objects and bytes before and after.
func WriteReport(w io.Writer, st Stats) {
	pct := func(before, after int64) string {
		if before == 0 {
			return "-"
		}
		return fmt.Sprintf("%+.1f %%", 100*(float64(after)/float64(before)-1))
	}
	fmt.Fprintf(w, "| | before | after | change |\n|---|---:|---:|---:|\n")
	fmt.Fprintf(w, "| objects | %d | %d | %s |\n", st.OldObjects, st.NewObjects, pct(st.OldObjects, st.NewObjects))
	fmt.Fprintf(w, "| bytes | %d | %d | %s |\n", st.OldBytes, st.NewBytes, pct(st.OldBytes, st.NewBytes))
	fmt.Fprintf(w, "\nOver the %d photos done; \"after\" counts the new WebP originals plus %d legacy originals kept.\n", st.Done, st.LegacyOriginalsKept)
}

// Export writes the old -> new mapping of every finished photo as CSV
// (with a header) or JSON lines, for bulk updates of the app's database.
func (s *State) Export(ctx context.Context, w io.Writer, format string) error {
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write([]string{"old_key", "new_key", "group", "width", "height", "old_bytes", "new_bytes"})
		err := s.EachPhoto(ctx, func(p PhotoRecord) error {
			return cw.Write([]string{p.OldKey, p.NewKey, p.Group, strconv.Itoa(p.Width), strconv.Itoa(p.Height), strconv.FormatInt(p.OldBytes, 10), strconv.FormatInt(p.NewBytes, 10)})
		})
		cw.Flush()
		if err != nil {
			return err
		}
		return cw.Error()
	case "jsonl":
		enc := json.NewEncoder(w)
		return s.EachPhoto(ctx, func(p PhotoRecord) error { return enc.Encode(p) })
	}
	return fmt.Errorf("export format must be csv or jsonl, not %q", format)
}
