// Package kubernetes holds picsoak's Kubernetes manifests (the YAML files beside this
// one) and generates prometheusrule.yaml from alerts/picsoak.rules.yml, so the rules
// prometheus-operator loads are the ones promtool tests. Regenerate with
//
//	go test ./deploy/kubernetes -update
//
// and commit the result; the tests fail when the committed file differs. Everything
// here is test code: none of it belongs in the binary, and the image's build context
// leaves deploy/ out.
package kubernetes

//go:generate go test -run TestPrometheusRuleIsGenerated -update .

import (
	"bytes"
	"errors"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// ruleHeader opens the generated file.
const ruleHeader = `# Generated from alerts/picsoak.rules.yml by deploy/kubernetes/prometheusrule_test.go
# (go test ./deploy/kubernetes -update). Do not edit: change the rule file.
# Add the labels your Prometheus's ruleSelector wants (kube-prometheus-stack:
# release: <its release name>).
`

// PrometheusRule returns a prometheus-operator PrometheusRule whose spec.groups are
// the groups of the Prometheus rule file rules, comments included.
func PrometheusRule(rules []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(rules, &doc); err != nil {
		return nil, fmt.Errorf("parse rule file: %w", err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("rule file: want a mapping with groups")
	}
	var groups *yaml.Node
	for i := 0; i+1 < len(doc.Content[0].Content); i += 2 {
		if doc.Content[0].Content[i].Value == "groups" {
			groups = doc.Content[0].Content[i+1]
		}
	}
	if groups == nil {
		return nil, errors.New("rule file: no groups")
	}
	out := mapping(
		"apiVersion", scalar("monitoring.coreos.com/v1"),
		"kind", scalar("PrometheusRule"),
		"metadata", mapping(
			"name", scalar("picsoak"),
			"labels", mapping("app.kubernetes.io/name", scalar("picsoak")),
		),
		"spec", mapping("groups", groups),
	)
	var buf bytes.Buffer
	buf.WriteString(ruleHeader)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("encode PrometheusRule: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }

// mapping builds a mapping node from key, value pairs.
func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i < len(kv); i += 2 {
		n.Content = append(n.Content, scalar(kv[i].(string)), kv[i+1].(*yaml.Node))
	}
	return n
}
