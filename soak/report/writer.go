package report

import "github.com/picsoak/picsoak/soak"

// Writer is a soak.Observer that stores every finished cycle's report in Store, so a
// result reaches the disk on the same route as every other observer. Written, when
// set, hears how each write went: the JSON report's path, or why it failed. A failed
// write loses that report only; the next cycle's is written as usual.
type Writer struct {
	soak.NopObserver
	Store   *Store
	Written func(r *soak.Result, path string, err error)
}

// CycleFinished implements soak.Observer.
func (w *Writer) CycleFinished(r *soak.Result) {
	path, err := w.Store.Write(r)
	if w.Written != nil {
		w.Written(r, path, err)
	}
}
