package soak

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReportStoreWritesAndKeepsNewest(t *testing.T) {
	dir := t.TempDir()
	store := &ReportStore{Dir: dir, Keep: 2}
	base := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	var paths []string
	for i := range 4 {
		r := &Result{Cycle: Burst, Start: base.Add(time.Duration(i) * time.Minute), Verdict: VerdictPass, Requests: OutcomeCounts{10, 0, 0, 0, 0}, SuccessRatio: 1}
		p, err := store.Write(r)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	// A report of another kind is not pruned by burst's retention.
	if _, err := store.Write(&Result{Cycle: Streams, Start: base}); err != nil {
		t.Fatal(err)
	}
	got, err := store.List(Burst)
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
	r, err := ReadReport(got[1])
	if err != nil {
		t.Fatal(err)
	}
	if r.Cycle != Burst || r.Requests[OutcomeOK] != 10 || !r.Start.Equal(base.Add(3*time.Minute)) {
		t.Errorf("read back %+v, want the burst result started 10:03 with 10 ok", r)
	}
}

func TestReportStoreIgnoresTempFiles(t *testing.T) {
	dir := t.TempDir()
	// A crash mid-write leaves a temp file; it must never be listed as a report.
	os.WriteFile(filepath.Join(dir, tempPrefix+"123-sustained.json"), []byte("{"), 0o644)
	got, err := (&ReportStore{Dir: dir, Keep: 5}).List(Sustained)
	if err != nil || len(got) != 0 {
		t.Errorf("List = %v, %v; want no reports", got, err)
	}
}

func TestReportStoreUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	os.WriteFile(file, nil, 0o644)
	_, err := (&ReportStore{Dir: file, Keep: 5}).Write(&Result{Cycle: Burst, Start: time.Now()})
	if err == nil || !strings.Contains(err.Error(), "report directory") {
		t.Errorf("got %v, want an error about the report directory", err)
	}
}

func TestMarkdownAnswersTheSeedQuestionsWithNumbers(t *testing.T) {
	p := newPIC(t, 2*time.Millisecond)
	r := p.runner(t, nil)
	for _, k := range Kinds {
		res := r.Run(context.Background(), k)
		md := Markdown(res)
		for _, want := range []string{
			"### Configuration", "### Results", "### Latency distribution", "### Capacity", "### Findings", "### PIC resource usage",
			"✅ PASS", "| p50 | p90 | p95 | p99 | p99.9 | max |", "of the enterprise target of 50000 req/s",
		} {
			if !strings.Contains(md, want) {
				t.Errorf("%s report lacks %q:\n%s", k, want, md)
			}
		}
	}
	res := r.Run(context.Background(), Burst)
	if md := Markdown(res); !strings.Contains(md, "| 3 | 60 |") {
		t.Errorf("burst report lacks the third burst's row:\n%s", md)
	}
	sum := SummaryMarkdown([]*Result{res})
	if !strings.HasPrefix(sum, "# picsoak run: 1 of 1 cycles passed") {
		t.Errorf("summary starts %q, want the pass count", strings.SplitN(sum, "\n", 2)[0])
	}
}
