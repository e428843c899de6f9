package awsprovider_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/providers"
	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
	"github.com/safecutover/safecutover/providers/providertest"
)

var testRecords = awsprovider.Route53Records{HostedZoneID: "/hostedzone/" + awstest.HostedZone, Name: "App.Example.com", Type: "A", SetIdentifiers: []string{"blue", "green"}}

func newR53(t *testing.T, h func(*awstest.Route53) awstest.Endpoint, rec awsprovider.Route53Records, opts awsprovider.Route53Options) (*awstest.Route53, *awsprovider.Route53Router) {
	t.Helper()
	f := awstest.NewRoute53()
	r, err := awsprovider.NewRoute53Router(f.Client(h(f)), rec, opts)
	if err != nil {
		t.Fatalf("NewRoute53Router: %v", err)
	}
	return f, r
}

func r53Net(t *testing.T) func(*awstest.Route53) awstest.Endpoint {
	return func(f *awstest.Route53) awstest.Endpoint { return awstest.Serve(t, f) }
}

func r53InProcess(f *awstest.Route53) awstest.Endpoint { return awstest.InProcess(f) }

func TestRoute53RouterConformance(t *testing.T) {
	providertest.TestTrafficRouter(t, func(t *testing.T) (providers.TrafficRouter, []string) {
		f, r := newR53(t, r53Net(t), testRecords, awsprovider.Route53Options{PollInterval: time.Millisecond})
		f.PendingPolls = 1
		return r, []string{"blue", "green"}
	})
}

// TestRoute53RouterAPICalls counts the calls of a canary: a one-time list,
// then one change a step plus the GetChange polls of the INSYNC wait.
func TestRoute53RouterAPICalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, r := newR53(t, r53InProcess, testRecords, awsprovider.Route53Options{})
		f.PendingPolls = 2 // INSYNC at the third GetChange
		ctx := context.Background()
		step := func(w providers.Weights) (map[string]int, time.Duration) {
			t.Helper()
			before, start := f.Snapshot(), time.Now()
			if err := r.SetWeights(ctx, w); err != nil {
				t.Fatalf("SetWeights(%v): %v", w, err)
			}
			if diff := cmp.Diff(map[string]int64{"blue": int64(w["blue"]), "green": int64(w["green"])}, f.Weights()); diff != "" {
				t.Errorf("records after SetWeights(%v) (-want +got):\n%s", w, diff)
			}
			return f.Since(before), time.Since(start)
		}
		first, _ := step(providers.Weights{"blue": 90, "green": 10})
		if diff := cmp.Diff(map[string]int{"ListResourceRecordSets": 1, "ChangeResourceRecordSets": 1, "GetChange": 3}, first); diff != "" {
			t.Errorf("first step calls (-want +got):\n%s", diff)
		}
		got, took := step(providers.Weights{"blue": 50, "green": 50})
		if diff := cmp.Diff(map[string]int{"ChangeResourceRecordSets": 1, "GetChange": 3}, got); diff != "" {
			t.Errorf("step calls (-want +got):\n%s", diff)
		}
		if took != 10*time.Second {
			t.Errorf("step took %s, want 10s (two 5s polls)", took)
		}
		t.Logf("route53 canary step: %v in %s", got, took)
		rb, _ := step(providers.Weights{"blue": 100})
		t.Logf("route53 rollback: %v", rb)
		before := f.Snapshot()
		if err := r.SetWeights(ctx, providers.Weights{"blue": 100}); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]int{"ListResourceRecordSets": 1}, f.Since(before)); diff != "" {
			t.Errorf("setting the weights in force: calls (-want +got):\n%s", diff)
		}
		if w, err := r.Weights(ctx); err != nil || !w.Equal(providers.Weights{"blue": 100}) {
			t.Errorf("Weights = %v, %v", w, err)
		}
	})
}

func TestRoute53RouterSyncTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, r := newR53(t, r53InProcess, testRecords, awsprovider.Route53Options{SyncTimeout: 30 * time.Second})
		f.PendingPolls = 1000
		start := time.Now()
		err := r.SetWeights(context.Background(), providers.Weights{"blue": 90, "green": 10})
		if !errors.Is(err, awsprovider.ErrWaitTimeout) || !strings.Contains(err.Error(), "still PENDING") {
			t.Fatalf("SetWeights with a change that never syncs: %v, want ErrWaitTimeout", err)
		}
		if el := time.Since(start); el != 30*time.Second {
			t.Errorf("gave up after %s, want 30s", el)
		}
		if n := f.Calls("GetChange"); n != 7 {
			t.Errorf("GetChange calls = %d, want 7 (at 0, 5, ..., 30s)", n)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		f, r := newR53(t, r53InProcess, testRecords, awsprovider.Route53Options{})
		f.PendingPolls = 1000
		ctx, cancel := context.WithTimeout(context.Background(), 12*time.Second)
		defer cancel()
		err := r.SetWeights(ctx, providers.Weights{"blue": 90, "green": 10})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("SetWeights with a 12s context: %v, want DeadlineExceeded", err)
		}
	})
}

func TestRoute53RouterPriorRequestNotComplete(t *testing.T) {
	prior := awstest.Fault{Status: 400, Code: "PriorRequestNotComplete", Message: "The request was rejected because Route 53 was still processing a prior request."}
	t.Run("RetriedUntilAccepted", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f, r := newR53(t, r53InProcess, testRecords, awsprovider.Route53Options{})
			f.PendingPolls = 0
			f.FailNext("ChangeResourceRecordSets", 2*awstest.MaxAttempts+1, prior)
			if err := r.SetWeights(context.Background(), providers.Weights{"blue": 90, "green": 10}); err != nil {
				t.Fatal(err)
			}
			if n := f.Calls("ChangeResourceRecordSets"); n != 2*awstest.MaxAttempts+2 {
				t.Errorf("ChangeResourceRecordSets calls = %d, want %d (the SDK's attempts, then ours)", n, 2*awstest.MaxAttempts+2)
			}
			if diff := cmp.Diff(map[string]int64{"blue": 90, "green": 10}, f.Weights()); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	})
	t.Run("GivesUpAtSyncTimeout", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f, r := newR53(t, r53InProcess, testRecords, awsprovider.Route53Options{SyncTimeout: 20 * time.Second})
			f.FailNext("ChangeResourceRecordSets", 1000, prior)
			err := r.SetWeights(context.Background(), providers.Weights{"blue": 90, "green": 10})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "PriorRequestNotComplete" {
				t.Fatalf("SetWeights: %v, want the PriorRequestNotComplete APIError", err)
			}
			if n := f.Calls("ChangeResourceRecordSets"); n > 5*awstest.MaxAttempts {
				t.Errorf("%d calls: the retry is not bounded by SyncTimeout", n)
			}
		})
	})
}

// TestRoute53RouterConcurrentEdit: a record changed by someone else since
// the router listed it makes the batch fail as a whole (its DELETE does not
// match); the router lists again and writes on top of the new record.
func TestRoute53RouterConcurrentEdit(t *testing.T) {
	f, r := newR53(t, r53Net(t), testRecords, awsprovider.Route53Options{PollInterval: time.Millisecond})
	f.PendingPolls = 0
	ctx := context.Background()
	if err := r.SetWeights(ctx, providers.Weights{"blue": 90, "green": 10}); err != nil {
		t.Fatal(err)
	}
	f.Edit("green", func(rs *awstest.RecordSet) {
		rs.TTL = aws.Int64(30)
		rs.ResourceRecords = []awstest.ResourceRecord{{Value: "192.0.2.21"}}
	})
	before := f.Snapshot()
	if err := r.SetWeights(ctx, providers.Weights{"blue": 50, "green": 50}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"ChangeResourceRecordSets": 2, "ListResourceRecordSets": 1, "GetChange": 1}, f.Since(before)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	want := awstest.WeightedRecord("green", 50, 30, "192.0.2.21")
	if diff := cmp.Diff(want, f.Records()["green"]); diff != "" {
		t.Errorf("green record: the other writer's change was lost (-want +got):\n%s", diff)
	}
	// Someone moves the weights back; asking for the weights the router
	// last wrote must still write them.
	f.Edit("blue", func(rs *awstest.RecordSet) { rs.Weight = aws.Int64(100) })
	f.Edit("green", func(rs *awstest.RecordSet) { rs.Weight = aws.Int64(0) })
	if err := r.SetWeights(ctx, providers.Weights{"blue": 50, "green": 50}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int64{"blue": 50, "green": 50}, f.Weights()); diff != "" {
		t.Errorf("weights after an outside change (-want +got):\n%s", diff)
	}
}

func TestRoute53RouterBadZones(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rec    awsprovider.Route53Records
		edit   func(*awstest.Route53)
		want   string
		wantAE string
	}{
		{"MissingRecord", awsprovider.Route53Records{HostedZoneID: awstest.HostedZone, Name: awstest.RecordName, Type: "A", SetIdentifiers: []string{"blue", "green", "teal"}},
			nil, `hosted zone has no weighted record with SetIdentifier "teal"`, ""},
		{"WrongType", awsprovider.Route53Records{HostedZoneID: awstest.HostedZone, Name: awstest.RecordName, Type: "AAAA", SetIdentifiers: []string{"blue", "green"}},
			nil, `SetIdentifier "blue", "green"`, ""},
		{"NoSuchZone", awsprovider.Route53Records{HostedZoneID: "ZNOSUCHZONE", Name: awstest.RecordName, Type: "A", SetIdentifiers: []string{"blue"}},
			nil, "zone ZNOSUCHZONE", "NoSuchHostedZone"},
		{"NotWeighted", testRecords, func(f *awstest.Route53) { f.Edit("green", func(rs *awstest.RecordSet) { rs.Weight = nil }) },
			`record "green" is not a weighted record`, ""},
		{"OtherRecordWeighted", testRecords, func(f *awstest.Route53) {
			f.Add(awstest.WeightedRecord("legacy", 10, 60, "192.0.2.99"))
		}, `record "legacy" has weight 10 but is not one of the router's targets`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, r := newR53(t, r53Net(t), tc.rec, awsprovider.Route53Options{})
			if tc.edit != nil {
				tc.edit(f)
			}
			_, err := r.Weights(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "zone ") {
				t.Fatalf("Weights: %v, want an error naming the zone and saying %q", err, tc.want)
			}
			if tc.wantAE != "" {
				var ae smithy.APIError
				if !errors.As(err, &ae) || ae.ErrorCode() != tc.wantAE {
					t.Errorf("error %v does not unwrap to the %s APIError", err, tc.wantAE)
				}
			}
			if err := r.SetWeights(context.Background(), providers.Weights{"blue": 100}); err == nil {
				t.Error("SetWeights: nil error")
			}
			if n := f.Calls("ChangeResourceRecordSets"); n != 0 {
				t.Errorf("%d changes submitted, want none", n)
			}
		})
	}
}

func TestRoute53RouterPagingAndThrottling(t *testing.T) {
	f, r := newR53(t, r53Net(t), testRecords, awsprovider.Route53Options{PollInterval: time.Millisecond})
	f.PageSize = 1
	f.PendingPolls = 0
	f.FailNext("ListResourceRecordSets", 2, awstest.Throttling)
	w, err := r.Weights(context.Background())
	if err != nil || !w.Equal(providers.Weights{"blue": 100}) {
		t.Fatalf("Weights = %v, %v", w, err)
	}
	// 2 throttled, then one page per record until the name changes.
	if n := f.Calls("ListResourceRecordSets"); n != 2+2 {
		t.Errorf("ListResourceRecordSets calls = %d, want 4", n)
	}
}

func TestRoute53RouterTTL(t *testing.T) {
	f, r := newR53(t, r53Net(t), testRecords, awsprovider.Route53Options{})
	f.Edit("green", func(rs *awstest.RecordSet) { rs.TTL = aws.Int64(300) })
	if ttl, err := r.TTL(context.Background()); err != nil || ttl != 5*time.Minute {
		t.Errorf("TTL = %s, %v; want 5m", ttl, err)
	}
	f2, r2 := newR53(t, r53Net(t), testRecords, awsprovider.Route53Options{AliasTTL: 90 * time.Second, PollInterval: time.Millisecond})
	for _, id := range []string{"blue", "green"} {
		f2.Edit(id, func(rs *awstest.RecordSet) {
			rs.TTL, rs.ResourceRecords = nil, nil
			rs.AliasTarget = &awstest.AliasTarget{HostedZoneId: "Z35SXDOTRQ7X7K", DNSName: id + "-123.us-east-1.elb.amazonaws.com.", EvaluateTargetHealth: true}
		})
	}
	if ttl, err := r2.TTL(context.Background()); err != nil || ttl != 90*time.Second {
		t.Errorf("alias TTL = %s, %v; want AliasTTL 90s", ttl, err)
	}
	if err := r2.SetWeights(context.Background(), providers.Weights{"blue": 80, "green": 20}); err != nil {
		t.Fatalf("SetWeights on alias records: %v", err)
	}
	if got := f2.Records()["green"]; got.AliasTarget == nil || *got.Weight != 20 {
		t.Errorf("alias record after SetWeights: %+v", got)
	}
}

func TestNewRoute53RouterBadInput(t *testing.T) {
	f := awstest.NewRoute53()
	c := f.Client(awstest.Serve(t, f))
	ok := testRecords
	with := func(fn func(*awsprovider.Route53Records)) awsprovider.Route53Records {
		r := ok
		r.SetIdentifiers = append([]string(nil), ok.SetIdentifiers...)
		fn(&r)
		return r
	}
	for _, tc := range []struct {
		name string
		rec  awsprovider.Route53Records
		opts awsprovider.Route53Options
		want string
	}{
		{"NoZone", with(func(r *awsprovider.Route53Records) { r.HostedZoneID = "" }), awsprovider.Route53Options{}, "HostedZoneID"},
		{"BadZone", with(func(r *awsprovider.Route53Records) { r.HostedZoneID = "z-lower case" }), awsprovider.Route53Options{}, "HostedZoneID"},
		{"NoName", with(func(r *awsprovider.Route53Records) { r.Name = " " }), awsprovider.Route53Options{}, "Name"},
		{"EmptyLabel", with(func(r *awsprovider.Route53Records) { r.Name = "app..example.com" }), awsprovider.Route53Options{}, "empty label"},
		{"BadType", with(func(r *awsprovider.Route53Records) { r.Type = "SOA" }), awsprovider.Route53Options{}, `Type "SOA"`},
		{"NoTargets", with(func(r *awsprovider.Route53Records) { r.SetIdentifiers = nil }), awsprovider.Route53Options{}, "SetIdentifiers"},
		{"DuplicateTarget", with(func(r *awsprovider.Route53Records) { r.SetIdentifiers = []string{"a", "a"} }), awsprovider.Route53Options{}, "given twice"},
		{"EmptyTarget", with(func(r *awsprovider.Route53Records) { r.SetIdentifiers = []string{"a", ""} }), awsprovider.Route53Options{}, "1–128"},
		{"NegativeTimeout", ok, awsprovider.Route53Options{SyncTimeout: -time.Second}, "SyncTimeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r, err := awsprovider.NewRoute53Router(c, tc.rec, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewRoute53Router = %v, %v; want an error about %s", r, err, tc.want)
			}
		})
	}
}
