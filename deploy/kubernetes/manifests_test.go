package kubernetes

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite prometheusrule.yaml from alerts/picsoak.rules.yml")

const (
	rulesFile      = "../../alerts/picsoak.rules.yml"
	ruleManifest   = "prometheusrule.yaml"
	dockerfile     = "../../Dockerfile"
	picsoakImage   = "ghcr.io/picsoak/picsoak"
	podIndexLabel  = "metadata.labels['apps.kubernetes.io/pod-index']"
	sidecarFile    = "sidecar.yaml"
	shardedJobFile = "regression-sharded.yaml"
	completionIdx  = "metadata.annotations['batch.kubernetes.io/job-completion-index']"
	kustomizeFile  = "kustomization.yaml"
	metricsPort    = 9853
	metricsPortStr = "http-metrics"
)

// The custom resources, as small typed structs with the fields the manifests use, so
// strict decoding rejects any other (a typo such as "endpoint:" instead of "endpoints:").
type objectMeta struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
}

type serviceMonitor struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   objectMeta `json:"metadata"`
	Spec       struct {
		JobLabel string `json:"jobLabel"`
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
			HonorLabels   bool   `json:"honorLabels,omitempty"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// ruleGroup is a Prometheus rule group, as in a rule file and a PrometheusRule's spec.
type ruleGroup struct {
	Name     string `json:"name"`
	Interval string `json:"interval,omitempty"`
	Rules    []struct {
		Record      string            `json:"record,omitempty"`
		Alert       string            `json:"alert,omitempty"`
		Expr        string            `json:"expr"`
		For         string            `json:"for,omitempty"`
		Labels      map[string]string `json:"labels,omitempty"`
		Annotations map[string]string `json:"annotations,omitempty"`
	} `json:"rules"`
}

type prometheusRule struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   objectMeta `json:"metadata"`
	Spec       struct {
		Groups []ruleGroup `json:"groups"`
	} `json:"spec"`
}

type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name   string `json:"name"`
		NewTag string `json:"newTag"`
	} `json:"images"`
}

// objects are every manifest in this folder, decoded strictly.
type objects struct {
	services       map[string]*corev1.Service
	pvcs           []*corev1.PersistentVolumeClaim
	deployments    []*appsv1.Deployment
	statefulSets   []*appsv1.StatefulSet
	cronJobs       []*batchv1.CronJob
	jobs           []*batchv1.Job
	serviceMonitor []*serviceMonitor
	rules          []*prometheusRule
	kustomization  *kustomization
	files          []string
}

// newObject returns an empty object of a manifest's apiVersion and kind.
func newObject(apiVersion, kind string) (any, error) {
	switch apiVersion + " " + kind {
	case "v1 Service":
		return &corev1.Service{}, nil
	case "v1 PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}, nil
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}, nil
	case "apps/v1 StatefulSet":
		return &appsv1.StatefulSet{}, nil
	case "batch/v1 CronJob":
		return &batchv1.CronJob{}, nil
	case "batch/v1 Job":
		return &batchv1.Job{}, nil
	case "monitoring.coreos.com/v1 ServiceMonitor":
		return &serviceMonitor{}, nil
	case "monitoring.coreos.com/v1 PrometheusRule":
		return &prometheusRule{}, nil
	case "kustomize.config.k8s.io/v1beta1 Kustomization":
		return &kustomization{}, nil
	}
	return nil, fmt.Errorf("unknown apiVersion %q kind %q", apiVersion, kind)
}

// decodeStrict decodes one YAML document into the type of its kind, failing on any
// field the type does not have and on duplicate fields.
func decodeStrict(doc []byte) (any, error) {
	var tm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := sigsyaml.Unmarshal(doc, &tm); err != nil {
		return nil, err
	}
	obj, err := newObject(tm.APIVersion, tm.Kind)
	if err != nil {
		return nil, err
	}
	if err := sigsyaml.UnmarshalStrict(doc, obj); err != nil {
		return nil, fmt.Errorf("%s: %w", tm.Kind, err)
	}
	return obj, nil
}

// documents splits a multi-document YAML file on its "---" lines.
func documents(b []byte) [][]byte {
	var out [][]byte
	for _, d := range bytes.Split(b, []byte("\n---\n")) {
		if len(bytes.TrimSpace(d)) > 0 {
			out = append(out, d)
		}
	}
	return out
}

func loadObjects(t *testing.T) *objects {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	o := &objects{services: map[string]*corev1.Service{}, files: files}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range documents(b) {
			obj, err := decodeStrict(doc)
			if err != nil {
				t.Errorf("%s document %d: got %v, want it to decode strictly", f, i+1, err)
				continue
			}
			switch v := obj.(type) {
			case *corev1.Service:
				o.services[v.Name] = v
			case *corev1.PersistentVolumeClaim:
				o.pvcs = append(o.pvcs, v)
			case *appsv1.Deployment:
				o.deployments = append(o.deployments, v)
			case *appsv1.StatefulSet:
				o.statefulSets = append(o.statefulSets, v)
			case *batchv1.CronJob:
				o.cronJobs = append(o.cronJobs, v)
			case *batchv1.Job:
				o.jobs = append(o.jobs, v)
			case *serviceMonitor:
				o.serviceMonitor = append(o.serviceMonitor, v)
			case *prometheusRule:
				o.rules = append(o.rules, v)
			case *kustomization:
				o.kustomization = v
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return o
}

func TestManifestsDecodeStrictly(t *testing.T) {
	o := loadObjects(t)
	counts := []struct {
		what      string
		got, want int
	}{
		{"Deployments (the sidecar example, the Pushgateway)", len(o.deployments), 2},
		{"StatefulSets (the standalone shards)", len(o.statefulSets), 1},
		{"CronJobs (the regression run)", len(o.cronJobs), 1},
		{"Jobs (the sharded regression run)", len(o.jobs), 1},
		{"Services (standalone, pic, sidecar, pushgateway)", len(o.services), 4},
		{"ServiceMonitors (picsoak, the Pushgateway)", len(o.serviceMonitor), 2},
		{"PrometheusRules", len(o.rules), 1},
	}
	for _, c := range counts {
		if c.got != c.want {
			t.Errorf("%s: got %d, want %d", c.what, c.got, c.want)
		}
	}
}

// TestStrictDecodingRejectsMistakes: the decoding above would catch what kubectl
// apply --validate=strict rejects.
func TestStrictDecodingRejectsMistakes(t *testing.T) {
	tests := []struct {
		name string
		doc  string
	}{
		// A misspelt field of a built-in type.
		{"typo in a Deployment", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replica: 1}\n"},
		// A field of the wrong type.
		{"string for a number", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: x}\nspec: {replicas: three}\n"},
		// A misspelt field of a custom resource.
		{"typo in a ServiceMonitor", "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: x}\nspec: {endpoint: []}\n"},
		// A field given twice.
		{"duplicate field", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nmetadata: {name: y}\n"},
		// A kind nothing here knows.
		{"unknown kind", "apiVersion: v1\nkind: Servce\nmetadata: {name: x}\n"},
	}
	for _, tt := range tests {
		if _, err := decodeStrict([]byte(tt.doc)); err == nil {
			t.Errorf("%s: got no error, want one", tt.name)
		}
	}
}

// dockerUser returns the uid and gid of the Dockerfile's final stage USER.
func dockerUser(t *testing.T) (uid, gid int64) {
	t.Helper()
	b, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	var user string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && strings.EqualFold(f[0], "FROM"):
			user = "" // a new stage
		case len(f) == 2 && strings.EqualFold(f[0], "USER"):
			user = f[1]
		}
	}
	u, g, ok := strings.Cut(user, ":")
	uid, err1 := strconv.ParseInt(u, 10, 64)
	gid, err2 := strconv.ParseInt(g, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		t.Fatalf("%s final stage USER: got %q, want numeric uid:gid", dockerfile, user)
	}
	return uid, gid
}

// podTemplate is one workload's pod, and whether it runs until stopped (and so needs
// probes) or to completion.
type podTemplate struct {
	name        string
	spec        corev1.PodSpec
	longRunning bool
}

func (o *objects) pods() []podTemplate {
	var out []podTemplate
	for _, d := range o.deployments {
		out = append(out, podTemplate{"Deployment " + d.Name, d.Spec.Template.Spec, true})
	}
	for _, s := range o.statefulSets {
		out = append(out, podTemplate{"StatefulSet " + s.Name, s.Spec.Template.Spec, true})
	}
	for _, c := range o.cronJobs {
		out = append(out, podTemplate{"CronJob " + c.Name, c.Spec.JobTemplate.Spec.Template.Spec, false})
	}
	for _, j := range o.jobs {
		out = append(out, podTemplate{"Job " + j.GenerateName, j.Spec.Template.Spec, false})
	}
	return out
}

// TestWorkloadsAreLockedDown: every container runs as the image's non-root user with
// a read-only root filesystem, no privilege escalation and no capabilities, within
// resource requests and limits, from one pinned image; those that run until stopped
// are probed on /healthz and /readyz.
func TestWorkloadsAreLockedDown(t *testing.T) {
	o := loadObjects(t)
	uid, gid := dockerUser(t)
	wantTag := ""
	for _, img := range o.kustomization.Images {
		if img.Name == picsoakImage {
			wantTag = img.NewTag
		}
	}
	if wantTag == "" || wantTag == "latest" {
		t.Fatalf("%s images: got tag %q for %s, want a pinned version", kustomizeFile, wantTag, picsoakImage)
	}
	for _, p := range o.pods() {
		ps := p.spec.SecurityContext
		if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot {
			t.Errorf("%s: pod securityContext.runAsNonRoot: got unset or false, want true", p.name)
		}
		if p.spec.AutomountServiceAccountToken == nil || *p.spec.AutomountServiceAccountToken {
			t.Errorf("%s: automountServiceAccountToken: got unset or true, want false (picsoak never calls the API server)", p.name)
		}
		// picsoak's pods run as its image's user; the Pushgateway's as its own.
		podGID := gid
		if !slices.ContainsFunc(p.spec.Containers, isPicsoak) && ps != nil && ps.RunAsGroup != nil {
			podGID = *ps.RunAsGroup
		}
		if len(p.spec.Volumes) > 0 && (ps == nil || ps.FSGroup == nil || *ps.FSGroup != podGID) {
			t.Errorf("%s: fsGroup: got %v, want %d (the image's group) so the volumes are writable", p.name, ps.FSGroup, podGID)
		}
		for _, c := range slices.Concat(p.spec.InitContainers, p.spec.Containers) {
			name := p.name + " container " + c.Name
			sc := c.SecurityContext
			if sc == nil {
				t.Errorf("%s: got no securityContext, want one", name)
				continue
			}
			checks := []struct {
				field, got, want string
			}{
				{"runAsNonRoot", boolField(sc.RunAsNonRoot), "true"},
				{"readOnlyRootFilesystem", boolField(sc.ReadOnlyRootFilesystem), "true"},
				{"allowPrivilegeEscalation", boolField(sc.AllowPrivilegeEscalation), "false"},
				{"capabilities", fmt.Sprint(sc.Capabilities), fmt.Sprint(&corev1.Capabilities{Drop: []corev1.Capability{"ALL"}})},
				{"privileged", boolField(sc.Privileged), "unset"},
			}
			for _, ck := range checks {
				if ck.got != ck.want {
					t.Errorf("%s: securityContext.%s: got %s, want %s", name, ck.field, ck.got, ck.want)
				}
			}
			for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if _, ok := c.Resources.Requests[res]; !ok {
					t.Errorf("%s: got no %s request, want one", name, res)
				}
				if _, ok := c.Resources.Limits[res]; !ok {
					t.Errorf("%s: got no %s limit, want one", name, res)
				}
			}
			if !isPicsoak(c) {
				// Another image (the Pushgateway): pinned, not root, probed.
				if _, tag, _ := strings.Cut(c.Image, ":"); tag == "" || tag == "latest" {
					t.Errorf("%s: image %q: want a pinned version tag", name, c.Image)
				}
				if u, _ := effective(ps, sc); u <= 0 {
					t.Errorf("%s: runs as uid %d, want a non-root uid", name, u)
				}
				if c.LivenessProbe == nil || c.ReadinessProbe == nil {
					t.Errorf("%s: got liveness %v, readiness %v, want both probes", name, c.LivenessProbe, c.ReadinessProbe)
				}
				continue
			}
			if _, tag, _ := strings.Cut(c.Image, ":"); tag != wantTag {
				t.Errorf("%s: image got %q, want %s:%s (pinned, as in %s)", name, c.Image, picsoakImage, wantTag, kustomizeFile)
			}
			if u, g := effective(ps, sc); u != uid || g != gid {
				t.Errorf("%s: runs as %d:%d, want %d:%d (the Dockerfile's final USER)", name, u, g, uid, gid)
			}
			if !p.longRunning {
				if c.LivenessProbe != nil || c.ReadinessProbe != nil {
					t.Errorf("%s: got probes, want none: `picsoak run` serves no HTTP", name)
				}
				continue
			}
			wantLive, wantReady := "/healthz", "/readyz"
			if !isPicsoakServe(c) { // the stand-in for PIC has only /healthz
				wantReady = "/healthz"
			}
			if got := probePath(c.LivenessProbe); got != wantLive {
				t.Errorf("%s: liveness probe path: got %q, want %q", name, got, wantLive)
			}
			if got := probePath(c.ReadinessProbe); got != wantReady {
				t.Errorf("%s: readiness probe path: got %q, want %q", name, got, wantReady)
			}
		}
	}
	for _, c := range o.cronJobs {
		if d := c.Spec.JobTemplate.Spec.ActiveDeadlineSeconds; d == nil || *d <= 0 {
			t.Errorf("CronJob %s: activeDeadlineSeconds: got %v, want a deadline (it has no liveness probe)", c.Name, d)
		}
	}
	for _, j := range o.jobs {
		if d := j.Spec.ActiveDeadlineSeconds; d == nil || *d <= 0 {
			t.Errorf("Job %s: activeDeadlineSeconds: got %v, want a deadline (it has no liveness probe)", j.GenerateName, d)
		}
	}
}

// isPicsoak reports whether c runs picsoak's image.
func isPicsoak(c corev1.Container) bool {
	repo, _, _ := strings.Cut(c.Image, ":")
	return repo == picsoakImage
}

func boolField(b *bool) string {
	if b == nil {
		return "unset"
	}
	return strconv.FormatBool(*b)
}

// effective is the uid and gid a container runs as: its own settings over the pod's.
func effective(pod *corev1.PodSecurityContext, c *corev1.SecurityContext) (uid, gid int64) {
	uid, gid = -1, -1
	if pod != nil && pod.RunAsUser != nil {
		uid = *pod.RunAsUser
	}
	if pod != nil && pod.RunAsGroup != nil {
		gid = *pod.RunAsGroup
	}
	if c.RunAsUser != nil {
		uid = *c.RunAsUser
	}
	if c.RunAsGroup != nil {
		gid = *c.RunAsGroup
	}
	return uid, gid
}

func probePath(p *corev1.Probe) string {
	if p == nil || p.HTTPGet == nil {
		return ""
	}
	return p.HTTPGet.Path
}

// isPicsoakServe reports whether c runs the daemon (not the simulator standing in for PIC).
func isPicsoakServe(c corev1.Container) bool {
	return !slices.Contains(c.Args, "sim")
}

func env(c corev1.Container, name string) (corev1.EnvVar, int) {
	for i, e := range c.Env {
		if e.Name == name {
			return e, i
		}
	}
	return corev1.EnvVar{}, -1
}

// TestStatefulSetShardsItsLoad: each pod's PICSOAK_SHARD is its ordinal over the
// replica count, so the replicas together run the configured load exactly once.
func TestStatefulSetShardsItsLoad(t *testing.T) {
	o := loadObjects(t)
	for _, s := range o.statefulSets {
		c := s.Spec.Template.Spec.Containers[0]
		idx, i := env(c, "POD_INDEX")
		if i < 0 || idx.ValueFrom == nil || idx.ValueFrom.FieldRef == nil || idx.ValueFrom.FieldRef.FieldPath != podIndexLabel {
			t.Errorf("StatefulSet %s: POD_INDEX: got %+v, want it from %s", s.Name, idx, podIndexLabel)
		}
		shard, j := env(c, "PICSOAK_SHARD")
		if s.Spec.Replicas == nil {
			t.Fatalf("StatefulSet %s: got no replicas, want them set", s.Name)
		}
		if want := fmt.Sprintf("$(POD_INDEX)/%d", *s.Spec.Replicas); shard.Value != want {
			t.Errorf("StatefulSet %s: PICSOAK_SHARD: got %q, want %q (the replica count)", s.Name, shard.Value, want)
		}
		// $(VAR) expands only variables defined earlier in the list.
		if j < i {
			t.Errorf("StatefulSet %s: PICSOAK_SHARD is env %d, POD_INDEX %d: want POD_INDEX first", s.Name, j, i)
		}
		if svc, ok := o.services[s.Spec.ServiceName]; !ok {
			t.Errorf("StatefulSet %s: serviceName %q: got no such Service, want one", s.Name, s.Spec.ServiceName)
		} else if !selects(svc.Spec.Selector, s.Spec.Template.Labels) {
			t.Errorf("Service %s: selector %v does not select StatefulSet %s's pods %v", svc.Name, svc.Spec.Selector, s.Name, s.Spec.Template.Labels)
		}
	}
}

// TestSidecarSeesPIC: the sidecar shares PIC's process namespace and soaks PIC over
// loopback on the port PIC's container declares.
func TestSidecarSeesPIC(t *testing.T) {
	o := loadObjects(t)
	for _, d := range o.deployments {
		spec := d.Spec.Template.Spec
		if !slices.ContainsFunc(spec.Containers, isPicsoak) {
			continue // the Pushgateway
		}
		if spec.ShareProcessNamespace == nil || !*spec.ShareProcessNamespace {
			t.Errorf("Deployment %s: shareProcessNamespace: got unset or false, want true so /proc shows PIC", d.Name)
		}
		var picPort int32
		var sidecar *corev1.Container
		for i, c := range spec.Containers {
			if isPicsoakServe(c) {
				sidecar = &spec.Containers[i]
			} else if len(c.Ports) > 0 {
				picPort = c.Ports[0].ContainerPort
			}
		}
		if sidecar == nil || picPort == 0 {
			t.Fatalf("Deployment %s: got no picsoak container or no PIC port, want both", d.Name)
		}
		url, _ := env(*sidecar, "PICSOAK_TARGET_URL")
		if want := fmt.Sprintf("http://127.0.0.1:%d/", picPort); !strings.HasPrefix(url.Value, want) {
			t.Errorf("Deployment %s: PICSOAK_TARGET_URL: got %q, want it under %s", d.Name, url.Value, want)
		}
		if !strings.Contains(strings.Join(sidecar.Args, " "), "PICSOAK_TARGET_PID") {
			t.Errorf("Deployment %s: sidecar args %q: want them to set PICSOAK_TARGET_PID", d.Name, sidecar.Args)
		}
	}
}

// TestCronJobRunsRegression: the CronJob runs `picsoak run` against the baseline it
// mounts and writes JUnit where its volume keeps it.
func TestCronJobRunsRegression(t *testing.T) {
	o := loadObjects(t)
	for _, cj := range o.cronJobs {
		pod := cj.Spec.JobTemplate.Spec.Template.Spec
		c := pod.Containers[0]
		args := c.Args
		flagValue := func(name string) string {
			if i := slices.Index(args, name); i >= 0 && i+1 < len(args) {
				return args[i+1]
			}
			return ""
		}
		if len(args) == 0 || args[0] != "run" {
			t.Errorf("CronJob %s: args %q: want `run` first", cj.Name, args)
		}
		mounted := func(path string) bool {
			for _, m := range c.VolumeMounts {
				if strings.HasPrefix(path, m.MountPath+"/") {
					return true
				}
			}
			return false
		}
		for _, f := range []string{"--baseline", "--junit", "--json"} {
			if v := flagValue(f); v == "" || !mounted(v) {
				t.Errorf("CronJob %s: %s %q: want a file on a mounted volume", cj.Name, f, v)
			}
		}
		if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			t.Errorf("CronJob %s: concurrencyPolicy: got %q, want Forbid (two runs would measure each other)", cj.Name, cj.Spec.ConcurrencyPolicy)
		}
	}
}

func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// TestServiceMonitorScrapesPicsoak: it selects every picsoak Service on its metrics
// port and names the job "picsoak", as the alert rules expect.
func TestServiceMonitorScrapesPicsoak(t *testing.T) {
	o := loadObjects(t)
	for _, sm := range o.serviceMonitor {
		if sm.Metadata.Name != "picsoak" {
			continue
		}
		var scraped []string
		for _, svc := range o.services {
			if !selects(sm.Spec.Selector.MatchLabels, svc.Labels) {
				continue
			}
			scraped = append(scraped, svc.Name)
			if job := svc.Labels[sm.Spec.JobLabel]; job != "picsoak" {
				t.Errorf("Service %s: job label %s: got %q, want picsoak (alerts/picsoak.rules.yml's job)", svc.Name, sm.Spec.JobLabel, job)
			}
			for _, ep := range sm.Spec.Endpoints {
				i := slices.IndexFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == ep.Port })
				if i < 0 || svc.Spec.Ports[i].Port != metricsPort {
					t.Errorf("Service %s: got no port %q on %d, want it for ServiceMonitor %s", svc.Name, ep.Port, metricsPort, sm.Metadata.Name)
				}
			}
		}
		slices.Sort(scraped)
		if want := []string{"pic-picsoak", "picsoak"}; !slices.Equal(scraped, want) {
			t.Errorf("ServiceMonitor %s scrapes %v, want %v", sm.Metadata.Name, scraped, want)
		}
		for _, ep := range sm.Spec.Endpoints {
			if ep.Port != metricsPortStr || ep.Path != "/metrics" {
				t.Errorf("ServiceMonitor %s endpoint: got port %q path %q, want %s /metrics", sm.Metadata.Name, ep.Port, ep.Path, metricsPortStr)
			}
		}
	}
}

// TestPushgatewayIsScrapedWithItsGroupsLabels: the batch runs' Pushgateway is
// scraped with honorLabels, so each pushed group keeps its job, instance and shard,
// and the runs reach it by its Service.
func TestPushgatewayIsScrapedWithItsGroupsLabels(t *testing.T) {
	o := loadObjects(t)
	svc, ok := o.services["pushgateway"]
	if !ok || len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 9091 {
		t.Fatalf("Service pushgateway: got %+v, want one on port 9091", svc)
	}
	found := false
	for _, sm := range o.serviceMonitor {
		if !selects(sm.Spec.Selector.MatchLabels, svc.Labels) {
			continue
		}
		found = true
		for _, ep := range sm.Spec.Endpoints {
			if !ep.HonorLabels || ep.Port != svc.Spec.Ports[0].Name {
				t.Errorf("ServiceMonitor %s: endpoint %+v, want port %s with honorLabels", sm.Metadata.Name, ep, svc.Spec.Ports[0].Name)
			}
		}
	}
	if !found {
		t.Errorf("got no ServiceMonitor selecting Service pushgateway, want one")
	}
	// Every batch run pushes to it, under a stable instance.
	var pods []podTemplate
	for _, p := range o.pods() {
		if !p.longRunning {
			pods = append(pods, p)
		}
	}
	if len(pods) != 2 {
		t.Fatalf("got %d batch pods, want the CronJob's and the sharded Job's", len(pods))
	}
	for _, p := range pods {
		c := p.spec.Containers[0]
		if u, _ := env(c, "PICSOAK_PUSHGATEWAY_URL"); u.Value != "http://pushgateway:9091" {
			t.Errorf("%s: PICSOAK_PUSHGATEWAY_URL %q, want http://pushgateway:9091", p.name, u.Value)
		}
		if inst, _ := env(c, "PICSOAK_PUSH_INSTANCE"); inst.Value == "" || strings.Contains(inst.Value, "$(") {
			t.Errorf("%s: PICSOAK_PUSH_INSTANCE %q, want a stable name: the pod's changes every run", p.name, inst.Value)
		}
	}
}

// TestIndexedJobShardsItsRun: each pod's PICSOAK_SHARD is its completion index over
// the completion count, so the pods together run the configured load exactly once.
func TestIndexedJobShardsItsRun(t *testing.T) {
	o := loadObjects(t)
	for _, j := range o.jobs {
		s := j.Spec
		if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion || s.Completions == nil || s.Parallelism == nil || *s.Parallelism != *s.Completions {
			t.Fatalf("Job %s: completionMode %v, completions %v, parallelism %v; want Indexed with every shard at once", j.GenerateName, s.CompletionMode, s.Completions, s.Parallelism)
		}
		c := s.Template.Spec.Containers[0]
		idx, i := env(c, "PICSOAK_SHARD_INDEX")
		if i < 0 || idx.ValueFrom == nil || idx.ValueFrom.FieldRef == nil || idx.ValueFrom.FieldRef.FieldPath != completionIdx {
			t.Errorf("Job %s: PICSOAK_SHARD_INDEX: got %+v, want it from %s", j.GenerateName, idx, completionIdx)
		}
		shard, k := env(c, "PICSOAK_SHARD")
		if want := fmt.Sprintf("$(PICSOAK_SHARD_INDEX)/%d", *s.Completions); shard.Value != want || k < i {
			t.Errorf("Job %s: PICSOAK_SHARD %q (env %d, index env %d): want %q after the index", j.GenerateName, shard.Value, k, i, want)
		}
		if j.Name != "" || j.GenerateName == "" {
			t.Errorf("Job: name %q, generateName %q: want a generated name, so each run is a new Job", j.Name, j.GenerateName)
		}
	}
}

// TestKustomizationListsManifests: `kubectl apply -k` applies every manifest but the
// sidecar example, which belongs in PIC's own pod, and the sharded run, a Job created
// once per run.
func TestKustomizationListsManifests(t *testing.T) {
	o := loadObjects(t)
	var want []string
	for _, f := range o.files {
		if f != sidecarFile && f != kustomizeFile && f != shardedJobFile {
			want = append(want, f)
		}
	}
	got := slices.Clone(o.kustomization.Resources)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("%s resources: got %v, want %v", kustomizeFile, got, want)
	}
}

// TestPrometheusRuleIsGenerated: the committed PrometheusRule is the generator's
// output for the current rule file, byte for byte.
func TestPrometheusRuleIsGenerated(t *testing.T) {
	rules, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	want, err := PrometheusRule(rules)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(ruleManifest, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(ruleManifest)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the generator's output for %s: run go test ./deploy/kubernetes -update", ruleManifest, rulesFile)
	}
}

// TestPrometheusRuleGroupsEqualRuleFile: whatever the YAML formatting, the groups
// prometheus-operator loads are exactly the rule file's, the ones promtool tests.
func TestPrometheusRuleGroupsEqualRuleFile(t *testing.T) {
	o := loadObjects(t)
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var rf struct {
		Groups []ruleGroup `json:"groups"`
	}
	if err := sigsyaml.UnmarshalStrict(b, &rf); err != nil {
		t.Fatalf("%s: got %v, want it to decode strictly", rulesFile, err)
	}
	if len(rf.Groups) == 0 {
		t.Fatalf("%s: got no groups, want some", rulesFile)
	}
	got := o.rules[0].Spec.Groups
	if !reflect.DeepEqual(got, rf.Groups) {
		t.Errorf("%s spec.groups differ from %s's groups: run go test ./deploy/kubernetes -update", ruleManifest, rulesFile)
	}
}
