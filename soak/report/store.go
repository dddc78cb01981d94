// Package report writes what the engine measured for people and machines: each
// cycle's JSON and Markdown report in a directory (written atomically, a bounded number
// kept, the newest readable one found again after a restart), the run files of
// `picsoak run --json`, the comparison of a run with a baseline run, and JUnit XML.
package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/picsoak/picsoak/soak"
)

// Store writes each result as <Dir>/<time>-<cycle>.json and .md and keeps the
// newest Keep of each cycle kind.
type Store struct {
	Dir  string
	Keep int
}

// reportTimeLayout sorts lexically in time order and is safe in every file system.
const reportTimeLayout = "20060102T150405.000Z"

// tempPrefix marks files being written; a crash can leave them, and they are never
// read as reports.
const tempPrefix = ".tmp-"

// Write writes r's JSON and Markdown reports atomically (temp file, fsync, rename) and
// deletes the oldest ones of its kind beyond Keep. It returns the JSON report's path.
func (s *Store) Write(r *soak.Result) (string, error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return "", fmt.Errorf("report directory: %w", err)
	}
	base := filepath.Join(s.Dir, r.Start.UTC().Format(reportTimeLayout)+"-"+r.Cycle.String())
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encoding report: %w", err)
	}
	if err := writeAtomic(base+".json", append(js, '\n')); err != nil {
		return "", err
	}
	if err := writeAtomic(base+".md", []byte("# picsoak report\n\n"+Markdown(r))); err != nil {
		return "", err
	}
	return base + ".json", s.prune(r.Cycle)
}

func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), tempPrefix+"*")
	if err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing report %s: %w", path, err)
	}
	return nil
}

// List returns the JSON report paths of kind, oldest first.
func (s *Store) List(kind soak.Kind) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(s.Dir, "*-"+kind.String()+".json"))
	if err != nil {
		return nil, err
	}
	paths = slices.DeleteFunc(paths, func(p string) bool { return strings.HasPrefix(filepath.Base(p), tempPrefix) })
	slices.Sort(paths)
	return paths, nil
}

func (s *Store) prune(kind soak.Kind) error {
	paths, err := s.List(kind)
	if err != nil || len(paths) <= s.Keep {
		return err
	}
	var errs []error
	for _, p := range paths[:len(paths)-s.Keep] {
		for _, f := range []string{p, strings.TrimSuffix(p, ".json") + ".md"} {
			if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Latest returns the newest readable report of kind, nil when there is none. Files
// that cannot be read as a report of kind (truncated, corrupt, or another kind's) are
// skipped, each with an error naming it, for the caller to log; a crash cannot leave a
// partial report behind (writes are atomic), but a disk or an operator can.
func (s *Store) Latest(kind soak.Kind) (*soak.Result, []error) {
	paths, err := s.List(kind)
	if err != nil {
		return nil, []error{fmt.Errorf("listing reports in %s: %w", s.Dir, err)}
	}
	var skipped []error
	for i := len(paths) - 1; i >= 0; i-- {
		r, err := Read(paths[i])
		if err == nil && (r.Cycle != kind || r.Start.IsZero()) {
			err = fmt.Errorf("report %s: not a %s cycle's report", paths[i], kind)
		}
		if err != nil {
			skipped = append(skipped, err)
			continue
		}
		return r, skipped
	}
	return nil, skipped
}

// ReadReport reads a JSON report back.
func Read(path string) (*soak.Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r soak.Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("report %s: %w", path, err)
	}
	return &r, nil
}
