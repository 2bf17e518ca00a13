package migrate

import (
	"context"
	"maps"
	"slices"

	"github.com/imgorigin/imgorigin/storage"
)

// Lister lists a store by prefix, a page at a time.
type Lister interface {
	List(ctx context.Context, prefix, after string, limit int) (storage.Page, error)
}

// PlanResult counts what plan found and enqueued.
type PlanResult struct {
	Groups, Photos, Thumbnails, Enqueued, AlreadyDone int
	Unmatched                                         int // keys under the prefix that fit neither template
}

// Plan lists the legacy bucket, groups its photos and enqueues one job per
// group not yet done. Running it again enqueues only what is left.
func Plan(ctx context.Context, src Lister, layout *Layout, state *State, queue Queue) (PlanResult, error) {
	groups, unmatched, err := inventory(ctx, src, layout)
	res := PlanResult{Unmatched: unmatched}
	if err != nil {
		return res, err
	}
	var batch []Job
	for _, g := range slices.Sorted(maps.Keys(groups)) {
		res.Groups++
		done, err := state.GroupDone(ctx, g)
		if err != nil {
			return res, err
		}
		job := Job{Group: g}
		for _, id := range slices.Sorted(maps.Keys(groups[g])) {
			p := groups[g][id]
			jp := JobPhoto{Original: p.original.Key, OriginalBytes: p.original.Size}
			for _, t := range p.thumbs {
				jp.Thumbnails = append(jp.Thumbnails, t.Key)
				jp.ThumbBytes += t.Size
			}
			res.Photos++
			res.Thumbnails += len(jp.Thumbnails)
			job.Photos = append(job.Photos, jp)
		}
		if done {
			res.AlreadyDone++
			continue
		}
		if err := state.SetGroup(ctx, g, len(job.Photos), "planned"); err != nil {
			return res, err
		}
		batch = append(batch, job)
		if len(batch) == 100 {
			if err := queue.Send(ctx, batch); err != nil {
				return res, err
			}
			res.Enqueued += len(batch)
			batch = batch[:0]
		}
	}
	if err := queue.Send(ctx, batch); err != nil {
		return res, err
	}
	res.Enqueued += len(batch)
	return res, nil
}

// legacyPhoto is one legacy original and its thumbnails, as listed.
type legacyPhoto struct {
	original storage.Info
	thumbs   []storage.Info
}

// inventory lists src under layout's prefix into groups of photos (group ->
// photo id -> photo), and counts the keys that fit neither template.
func inventory(ctx context.Context, src Lister, layout *Layout) (groups map[string]map[string]*legacyPhoto, unmatched int, err error) {
	groups = map[string]map[string]*legacyPhoto{}
	add := func(group, id string, it storage.Info) {
		if groups[group] == nil {
			groups[group] = map[string]*legacyPhoto{}
		}
		groups[group][id] = &legacyPhoto{original: it}
	}
	var thumbs []storage.Info
	for after := ""; ; {
		page, err := src.List(ctx, layout.Prefix(), after, 1000)
		if err != nil {
			return nil, unmatched, err
		}
		for _, it := range page.Items {
			group, id, size, ok := layout.Match(it.Key)
			switch {
			case !ok:
				unmatched++
			case size != "":
				thumbs = append(thumbs, it) // resolved once all originals are known
			default:
				add(group, id, it)
			}
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	// A key like g/a_b.jpg fits both templates; it is a thumbnail only if the
	// original it names exists, else it is an original itself.
thumbs:
	for _, it := range thumbs {
		for _, s := range layout.thumbnailSplits(it.Key) {
			if p := groups[s[0]][s[1]]; p != nil {
				p.thumbs = append(p.thumbs, it)
				continue thumbs
			}
		}
		if og, oid, _, ok := layout.matchOriginal(it.Key); ok {
			add(og, oid, it)
			continue
		}
		unmatched++
	}
	return groups, unmatched, nil
}
