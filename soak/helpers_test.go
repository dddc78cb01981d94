package soak_test

import (
	"testing"

	"github.com/picsoak/picsoak/internal/soaktest"
	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/config"
	"github.com/picsoak/picsoak/soak/httptarget"
)

// newRunner returns a runner of cfg against its target over HTTP.
func newRunner(t testing.TB, cfg config.Config) *soak.Runner {
	t.Helper()
	target := httptarget.New(cfg.Target, cfg.Plan.MaxConcurrency(), "picsoak-test")
	t.Cleanup(target.CloseIdleConnections)
	return soaktest.Runner(cfg, target)
}

// picRunner returns a runner against p of soaktest.Config with environ, after edit
// (which may be nil).
func picRunner(t testing.TB, p *soaktest.PIC, edit func(*config.Config), environ ...string) *soak.Runner {
	t.Helper()
	cfg := soaktest.Config(t, p.URL(), environ...)
	if edit != nil {
		edit(&cfg)
	}
	return newRunner(t, cfg)
}
