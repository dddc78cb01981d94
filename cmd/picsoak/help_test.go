package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/picsoak/picsoak/soak/config"
)

var update = flag.Bool("update", false, "rewrite docs/configuration.md's generated variable table")

// configurationDoc is the manual's configuration page; its variable table is written
// from the same struct tags as `picsoak help`.
const configurationDoc = "../../docs/configuration.md"

const (
	tableBegin = "<!-- BEGIN GENERATED: picsoak help -->\n"
	tableEnd   = "<!-- END GENERATED: picsoak help -->\n"
)

// variableTable is docs/configuration.md's table of every variable.
func variableTable() string {
	var b strings.Builder
	b.WriteString("| variable | default | meaning |\n|---|---|---|\n")
	for _, v := range config.Vars() {
		def := v.Default
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", v.Name, def, strings.ReplaceAll(v.Help, "|", `\|`))
	}
	return b.String()
}

// TestConfigurationDocIsGenerated keeps docs/configuration.md's variable table what
// `picsoak help` says; `go test ./cmd/picsoak -run TestConfigurationDocIsGenerated
// -update` rewrites it.
func TestConfigurationDocIsGenerated(t *testing.T) {
	doc, err := os.ReadFile(configurationDoc)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok1 := strings.Cut(string(doc), tableBegin)
	table, after, ok2 := strings.Cut(rest, tableEnd)
	if !ok1 || !ok2 {
		t.Fatalf("%s: got no %q … %q block, want the generated table between them", configurationDoc, tableBegin, tableEnd)
	}
	want := variableTable()
	if *update {
		if err := os.WriteFile(configurationDoc, []byte(before+tableBegin+want+tableEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if table != want {
		t.Errorf("%s's variable table differs from picsoak help's variables; run go test ./cmd/picsoak -run TestConfigurationDocIsGenerated -update\ngot:\n%s\nwant:\n%s", configurationDoc, table, want)
	}
}
