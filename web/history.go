package web

import (
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/report"
)

// storedReport is one stored cycle report.
type storedReport struct {
	// Base is the file name without extension; the page links Base+".md" and ".json".
	Base   string
	Result *soak.Result
}

// history reads the report store's JSON reports and keeps them decoded: reports never
// change once written, so each is read once however often the page refreshes.
type history struct {
	mu    sync.Mutex
	cache map[string]*soak.Result
}

// recent returns the newest n reports of kind, oldest first, and the errors of those
// that could not be read.
func (h *history) recent(store *report.Store, kind soak.Kind, n int) ([]storedReport, []error) {
	paths, err := store.List(kind)
	if err != nil {
		return nil, []error{err}
	}
	if len(paths) > n {
		paths = paths[len(paths)-n:]
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cache == nil {
		h.cache = map[string]*soak.Result{}
	}
	var out []storedReport
	var errs []error
	for _, p := range paths {
		r, ok := h.cache[p]
		if !ok {
			r, err = report.Read(p)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			h.cache[p] = r
		}
		out = append(out, storedReport{Base: strings.TrimSuffix(filepath.Base(p), ".json"), Result: r})
	}
	h.forget(kind, paths)
	return out, errs
}

// forget drops cached reports of kind that are no longer among paths (pruned by the
// store, or older than the page shows), so the cache stays as small as the page.
func (h *history) forget(kind soak.Kind, paths []string) {
	suffix := "-" + kind.String() + ".json"
	for p := range h.cache {
		if strings.HasSuffix(p, suffix) && !slices.Contains(paths, p) {
			delete(h.cache, p)
		}
	}
}
