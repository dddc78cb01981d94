package report

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/picsoak/picsoak/internal/soaktest"
	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/httptarget"
)

func TestStoreWritesAndKeepsNewest(t *testing.T) {
	dir := t.TempDir()
	store := &Store{Dir: dir, Keep: 2}
	base := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	var paths []string
	for i := range 4 {
		r := &soak.Result{Cycle: soak.Burst, Start: base.Add(time.Duration(i) * time.Minute), Verdict: soak.VerdictPass, Requests: soak.OutcomeCounts{10, 0, 0, 0, 0}, SuccessRatio: 1}
		p, err := store.Write(r)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	// A report of another kind is not pruned by burst's retention.
	if _, err := store.Write(&soak.Result{Cycle: soak.Streams, Start: base}); err != nil {
		t.Fatal(err)
	}
	got, err := store.List(soak.Burst)
	if err != nil {
		t.Fatal(err)
	}
	if want := paths[2:]; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("kept %v, want the newest two %v", got, want)
	}
	if filepath.Base(got[1]) != "20261127T100300.000Z-burst.json" {
		t.Errorf("name = %s, want <time>-<cycle>.json", filepath.Base(got[1]))
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 6 { // 2 burst + 1 streams, .json and .md each, no temp files
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want 6 files", names)
	}
	r, err := Read(got[1])
	if err != nil {
		t.Fatal(err)
	}
	if r.Cycle != soak.Burst || r.Requests[soak.OutcomeOK] != 10 || !r.Start.Equal(base.Add(3*time.Minute)) {
		t.Errorf("read back %+v, want the burst result started 10:03 with 10 ok", r)
	}
}

func TestStoreIgnoresTempFiles(t *testing.T) {
	dir := t.TempDir()
	// A crash mid-write leaves a temp file; it must never be listed as a report.
	os.WriteFile(filepath.Join(dir, tempPrefix+"123-sustained.json"), []byte("{"), 0o644)
	got, err := (&Store{Dir: dir, Keep: 5}).List(soak.Sustained)
	if err != nil || len(got) != 0 {
		t.Errorf("List = %v, %v; want no reports", got, err)
	}
}

func TestStoreUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	os.WriteFile(file, nil, 0o644)
	_, err := (&Store{Dir: file, Keep: 5}).Write(&soak.Result{Cycle: soak.Burst, Start: time.Now()})
	if err == nil || !strings.Contains(err.Error(), "report directory") {
		t.Errorf("got %v, want an error about the report directory", err)
	}
}

func TestMarkdownAnswersTheSeedQuestionsWithNumbers(t *testing.T) {
	p := soaktest.NewPIC(t, 2*time.Millisecond)
	cfg := soaktest.Config(t, p.URL())
	target := httptarget.New(cfg.Target, cfg.Plan.MaxConcurrency(), "picsoak-test")
	t.Cleanup(target.CloseIdleConnections)
	r := soaktest.Runner(cfg, target)
	for _, k := range soak.Kinds {
		res := r.Run(context.Background(), k)
		md := Markdown(res)
		for _, want := range []string{
			"### Configuration", "### Results", "### Latency distribution", "### Capacity", "### Findings", "### PIC resource usage",
			"✅ PASS", "| p50 | p90 | p95 | p99 | p99.9 | max |", "of the enterprise target of 50000 req/s", "| protocol | HTTP/1.1 |",
			"### Endpoints", "| default | ", "200 × ",
		} {
			if !strings.Contains(md, want) {
				t.Errorf("%s report lacks %q:\n%s", k, want, md)
			}
		}
	}
	res := r.Run(context.Background(), soak.Burst)
	if md := Markdown(res); !strings.Contains(md, "| 3 | 60 |") {
		t.Errorf("burst report lacks the third burst's row:\n%s", md)
	}
	// Every threshold with its bound, what was measured and whether it held.
	if md := Markdown(res); !strings.Contains(md, "### Thresholds") || !strings.Contains(md, "| `success>=0.9` | >= 0.9 | 1 | ✅ |") || !strings.Contains(md, "| `p99<=1s` | <= 1s | ") {
		t.Errorf("burst report lacks its thresholds table:\n%s", md)
	}
	sum := SummaryMarkdown([]*soak.Result{res})
	if !strings.HasPrefix(sum, "# picsoak run: 1 of 1 cycles passed") {
		t.Errorf("summary starts %q, want the pass count", strings.SplitN(sum, "\n", 2)[0])
	}
}

// Rows 11 and 12 at the engine level: what a restarted daemon reads back. The newest
// readable report of each kind wins; truncated files and temp files are never taken
// for reports, and each skipped file is named so the daemon can log it.
func TestLatestReportSkipsCorruptAndTempFiles(t *testing.T) {
	store := &Store{Dir: t.TempDir(), Keep: 10}
	good := &soak.Result{Cycle: soak.Burst, Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Verdict: soak.VerdictPass, Findings: []string{}}
	if _, err := store.Write(good); err != nil {
		t.Fatal(err)
	}
	// A newer report cut short, as a failing disk or a careless copy leaves it.
	truncated := filepath.Join(store.Dir, "20270101T000000.000Z-burst.json")
	// A newer file under a burst name that holds another kind's report.
	misnamed := filepath.Join(store.Dir, "20270102T000000.000Z-burst.json")
	other, _ := json.Marshal(&soak.Result{Cycle: soak.Streams, Start: time.Now()})
	// A complete, even newer report still in its temp file: a crash between write and
	// rename leaves exactly this, and it must not count.
	temp, _ := json.Marshal(&soak.Result{Cycle: soak.Burst, Start: time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC), Verdict: soak.VerdictFail})
	for path, data := range map[string][]byte{
		truncated: []byte(`{"cycle": "burst", "start": "2027-`),
		misnamed:  other,
		filepath.Join(store.Dir, tempPrefix+"3071234567"): temp,
	} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, skipped := store.Latest(soak.Burst)
	if got == nil || !got.Start.Equal(good.Start) || got.Verdict != soak.VerdictPass {
		t.Errorf("got %+v, want the readable report of %s", got, good.Start)
	}
	if len(skipped) != 2 || !strings.Contains(skipped[0].Error(), misnamed) || !strings.Contains(skipped[1].Error(), truncated) {
		t.Errorf("got skipped %v, want the misnamed then the truncated file named", skipped)
	}
	if got, skipped := store.Latest(soak.Streams); got != nil || len(skipped) != 0 {
		t.Errorf("got %+v and %v for a kind without reports, want neither", got, skipped)
	}
}

// A Writer stores each finished result and says where, or why not.
func TestWriterStoresEveryResultAndSaysHowItWent(t *testing.T) {
	var paths []string
	var errs []error
	w := &Writer{Store: &Store{Dir: t.TempDir(), Keep: 10}, Written: func(_ *soak.Result, path string, err error) {
		paths, errs = append(paths, path), append(errs, err)
	}}
	w.CycleFinished(&soak.Result{Cycle: soak.Streams, Start: time.Now(), Findings: []string{}})
	if len(paths) != 1 || errs[0] != nil {
		t.Fatalf("got paths %v, errors %v; want one report written", paths, errs)
	}
	if r, err := Read(paths[0]); err != nil || r.Cycle != soak.Streams {
		t.Errorf("read back %+v, %v; want the streams result", r, err)
	}
	// A store it cannot write to: the error is told, nothing panics.
	blocker := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocker, nil, 0o644)
	w.Store = &Store{Dir: filepath.Join(blocker, "reports"), Keep: 10}
	w.CycleFinished(&soak.Result{Cycle: soak.Streams, Start: time.Now(), Findings: []string{}})
	if len(errs) != 2 || errs[1] == nil {
		t.Errorf("got errors %v, want the second write's failure", errs)
	}
}
