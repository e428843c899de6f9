package awstest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
	"github.com/safecutover/safecutover/providers/providertest"
)

// call sends one awsJson1_1 request to m and returns the status and the
// decoded answer.
func call(t *testing.T, m *awstest.Managed, method, target, body string) (int, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(method, "/", strings.NewReader(body))
	if target != "" {
		r.Header.Set("X-Amz-Target", target)
	}
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	w := httptest.NewRecorder()
	m.ServeHTTP(w, r)
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("answer %q: %v", w.Body.String(), err)
	}
	return w.Code, out
}

func TestManagedProtocolErrors(t *testing.T) {
	m := newManaged(t, awstest.ManagedOptions{})
	m.FailNext("GetDeployment", 1, awstest.Throttling)
	m.FailNext("DescribeServices", 1, awstest.Fault{Status: http.StatusInternalServerError, Code: "ServiceUnavailable", Message: "unavailable"})
	for _, tc := range []struct {
		name, method, target, body string
		status                     int
		code                       string
	}{
		{"GET", http.MethodGet, "CodeDeploy_20141006.GetDeployment", "{}", 400, "UnknownOperationException"},
		{"no target", http.MethodPost, "", "{}", 400, "UnknownOperationException"},
		{"other service", http.MethodPost, "DynamoDB_20120810.GetItem", "{}", 400, "UnknownOperationException"},
		{"unsimulated op", http.MethodPost, "CodeDeploy_20141006.DeleteApplication", "{}", 400, "UnknownOperationException"},
		{"throttled", http.MethodPost, "CodeDeploy_20141006.GetDeployment", `{"deploymentId":"d-1"}`, 400, "ThrottlingException"},
		{"bad JSON", http.MethodPost, "CodeDeploy_20141006.GetDeployment", "{", 400, "SerializationException"},
		{"then unknown", http.MethodPost, "CodeDeploy_20141006.GetDeployment", `{"deploymentId":"d-1"}`, 400, "DeploymentDoesNotExistException"},
		{"unavailable", http.MethodPost, "AmazonEC2ContainerServiceV20141113.DescribeServices", `{"services":["web"]}`, 500, "ServiceUnavailable"},
		{"unknown group", http.MethodPost, "CodeDeploy_20141006.GetDeploymentGroup", `{"applicationName":"a","deploymentGroupName":"g"}`, 400, "ApplicationDoesNotExistException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := call(t, m, tc.method, tc.target, tc.body)
			if status != tc.status || out["__type"] != tc.code {
				t.Errorf("got %d %v, want %d %s", status, out, tc.status, tc.code)
			}
		})
	}
	if n := m.Calls("GetDeployment"); n != 3 {
		t.Errorf("GetDeployment counted %d times, want 3 (throttled and bad JSON included, GET not: it is no call)", n)
	}
}

// TestManagedCodeDeployLifecycle follows a linear deployment on a manual
// clock: the router's weights step up, the termination wait starts, and
// the wait running out terminates the original.
func TestManagedCodeDeployLifecycle(t *testing.T) {
	clock := cutover.NewManualClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	m := newManaged(t, awstest.ManagedOptions{Clock: clock})
	r := providertest.NewRouter(t, "blue", "green")
	if err := m.AddDeploymentGroup(awstest.ManagedGroup{Application: "a", Name: "g", TerminationWait: 30 * time.Minute, Router: r,
		DeploymentConfig: "CodeDeployDefault.ECSLinear10PercentEvery1Minutes"}); err != nil {
		t.Fatal(err)
	}
	status, out := call(t, m, http.MethodPost, "CodeDeploy_20141006.CreateDeployment",
		`{"applicationName":"a","deploymentGroupName":"g","revision":{"revisionType":"AppSpecContent","appSpecContent":{"content":"{\"TaskDefinition\":\"td:2\"}"}}}`)
	if status != 200 {
		t.Fatalf("CreateDeployment: %d %v", status, out)
	}
	for _, step := range []struct {
		after  time.Duration
		green  int
		stage  string
		status string
	}{
		{0, 0, "install", "InProgress"},
		{time.Minute, 10, "shift", "InProgress"},
		{5 * time.Minute, 50, "shift", "InProgress"},
		{9 * time.Minute, 90, "shift", "InProgress"},
		{10 * time.Minute, 100, "termination wait", "InProgress"},
		{39 * time.Minute, 100, "termination wait", "InProgress"},
		{40 * time.Minute, 100, "", "Succeeded"},
	} {
		clock.Set(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Add(step.after))
		d := m.Deployments()[0]
		if r.Share("green") != step.green || d.Stage != step.stage || d.Status != step.status {
			t.Errorf("at +%s: green %d%%, %s %q; want %d%%, %s %q", step.after, r.Share("green"), d.Status, d.Stage, step.green, step.status, step.stage)
		}
	}
	if td, _ := m.ServiceTaskDefinition("", "g"); td != "td:2" {
		t.Errorf("service runs %q after success, want td:2", td)
	}
}

func newManaged(t *testing.T, opts awstest.ManagedOptions) *awstest.Managed {
	t.Helper()
	m, err := awstest.NewManaged(opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestManagedOptionsRefused: a negative duration is refused, naming the
// field and what 0 means.
func TestManagedOptionsRefused(t *testing.T) {
	_, err := awstest.NewManaged(awstest.ManagedOptions{Rollback: -time.Second})
	if !errors.Is(err, awstest.ErrManaged) || !strings.Contains(err.Error(), "ManagedOptions.Rollback: -1s: want ≥ 0 (0 means 1m0s)") {
		t.Errorf("NewManaged with a negative rollback: %v", err)
	}
}

// TestManagedServiceCapacity: a service of the simulation reports its
// capacity as the ECS fake does — UpdateService sets the desired count,
// each DescribeServices moves the running count a task toward it — and an
// unknown cluster is ClusterNotFoundException.
func TestManagedServiceCapacity(t *testing.T) {
	m := newManaged(t, awstest.ManagedOptions{})
	if err := m.AddService(awstest.ManagedService{Cluster: "prod", Name: "web"}); err != nil {
		t.Fatal(err)
	}
	const ecs = "AmazonEC2ContainerServiceV20141113."
	if status, out := call(t, m, http.MethodPost, ecs+"UpdateService", `{"cluster":"prod","service":"web","desiredCount":4}`); status != 200 {
		t.Fatalf("UpdateService: %d %v", status, out)
	}
	var running []any
	for range 3 {
		_, out := call(t, m, http.MethodPost, ecs+"DescribeServices", `{"cluster":"prod","services":["web"]}`)
		svc := out["services"].([]any)[0].(map[string]any)
		if svc["desiredCount"] != 4.0 {
			t.Errorf("desiredCount %v, want 4", svc["desiredCount"])
		}
		running = append(running, svc["runningCount"])
	}
	if fmt.Sprint(running) != "[2 3 4]" {
		t.Errorf("running counts %v, want [2 3 4]", running)
	}
	if status, out := call(t, m, http.MethodPost, ecs+"DescribeServices", `{"cluster":"staging","services":["web"]}`); status != 400 || out["__type"] != "ClusterNotFoundException" {
		t.Errorf("unknown cluster: %d %v, want ClusterNotFoundException", status, out)
	}
}
