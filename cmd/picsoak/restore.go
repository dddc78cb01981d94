package main

import (
	"log/slog"

	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/report"
)

// restoreLastResults gives the scheduler each cycle kind's newest report from an
// earlier run, so /api/v1/status shows it after a restart. Unreadable report files are
// skipped with a warning naming them; they never stop the daemon.
func restoreLastResults(store *report.Store, sched *soak.Scheduler, log *slog.Logger) {
	for _, k := range soak.Kinds {
		res, skipped := store.Latest(k)
		for _, err := range skipped {
			log.Warn("skipping unreadable report", "cycle", k.String(), "err", err)
		}
		if res != nil {
			sched.Restore(res)
		}
	}
}
