package awsprovider

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"go.uber.org/zap"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers"
)

// Route53API is the part of *route53.Client a Route53Router uses.
type Route53API interface {
	ListResourceRecordSets(ctx context.Context, in *route53.ListResourceRecordSetsInput, optFns ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error)
	ChangeResourceRecordSets(ctx context.Context, in *route53.ChangeResourceRecordSetsInput, optFns ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error)
	GetChange(ctx context.Context, in *route53.GetChangeInput, optFns ...func(*route53.Options)) (*route53.GetChangeOutput, error)
}

var _ Route53API = (*route53.Client)(nil)

// Route53Records names the weighted record sets a Route53Router moves
// traffic between: one record set per target, all with the same name and
// type, told apart by their SetIdentifier.
type Route53Records struct {
	// HostedZoneID is the zone's ID, "Z0123456789ABC" or
	// "/hostedzone/Z0123456789ABC".
	HostedZoneID string
	// Name is the record name, "app.example.com" (a final dot is optional).
	Name string
	// Type is the record type: A, AAAA, CNAME, TXT, ...
	Type string
	// SetIdentifiers are the targets' names, one weighted record each.
	SetIdentifiers []string
}

// Route53Options configures a Route53Router. The zero value is valid.
type Route53Options struct {
	// Logger receives debug and info logs; nil means none.
	Logger *zap.Logger
	// Clock paces the waits; nil means the wall clock.
	Clock cutover.Clock
	// Pacer, if set, is waited on before each API call (Route 53 allows
	// five requests a second per account).
	Pacer Pacer
	// CallTimeout bounds each attempt of each API call; a timed-out
	// attempt is retried by the client's retryer. ≥ 0; 0 means
	// DefaultCallTimeout.
	CallTimeout time.Duration
	// SyncTimeout bounds how long SetWeights waits for a change to reach
	// INSYNC, and for how long a change refused with
	// PriorRequestNotComplete is retried. Zero means 3 minutes.
	SyncTimeout time.Duration
	// PollInterval is the time between GetChange calls. Zero means 5s.
	PollInterval time.Duration
	// AliasTTL is the TTL TTL reports for alias records, which have none of
	// their own: an alias to a load balancer is answered with a 60s TTL.
	// Zero means 60s.
	AliasTTL time.Duration
	// FreshRead makes every SetWeights list the records first instead of
	// starting from the records as the router last saw them. The change
	// itself is safe either way (see Route53Router); FreshRead only saves
	// the retry when others edit the records.
	FreshRead bool
}

// Route53Router is a providers.TrafficRouter over Route 53 weighted record
// sets. Percentages are written as record weights (0–100 of the 0–255
// Route 53 allows), so a read maps back exactly.
//
// A SetWeights is one ChangeResourceRecordSets call — a transactional batch
// that deletes each changed record as the router last saw it and creates it
// with its new weight, so a record someone else changed meanwhile makes the
// whole batch fail rather than be overwritten (the router then lists the
// records once and tries again) — followed by GetChange polls until the
// change is INSYNC on every Route 53 name server, within SyncTimeout.
// PriorRequestNotComplete (another change to the zone still in progress) is
// retried within the same bound.
//
// INSYNC is not the end of the story: resolvers and clients keep the old
// answers until their TTL runs out. Traffic therefore moves, and moves back
// on a rollback, over up to TTL after SetWeights returns: a stage's bake
// should be at least the TTL before its gates mean anything, and a target
// being drained must keep serving (the rollback window of retiring it can
// never be shorter than) the TTL. TTL reports it so that plans can say so:
// the canary strategy takes it (Propagation) as its propagation unless
// told otherwise, and holds each step's gates until clients follow the new
// weights; pass it as the Propagation option of bluegreen, which refuses a
// warm window shorter than it.
//
// A Route53Router is safe for concurrent use; calls are serialised.
type Route53Router struct {
	awsBase
	client  Route53API
	zone    string // bare zone ID
	name    string // normalised: lower case, final dot
	rrType  r53types.RRType
	ids     []string // sorted SetIdentifiers
	opts    Route53Options
	syncMax time.Duration
	poll    time.Duration

	mu     sync.Mutex
	cached map[string]r53types.ResourceRecordSet // by SetIdentifier; nil: list first
}

var _ providers.TrafficRouter = (*Route53Router)(nil)

// route53Types are the record types that weighted routing supports.
var route53Types = map[string]bool{"A": true, "AAAA": true, "CAA": true, "CNAME": true, "DS": true, "HTTPS": true,
	"MX": true, "NAPTR": true, "PTR": true, "SPF": true, "SRV": true, "SSHFP": true, "SVCB": true, "TLSA": true, "TXT": true}

// NewRoute53Router returns a router over the weighted records rec. The
// client is usually a *route53.Client.
func NewRoute53Router(client Route53API, rec Route53Records, opts Route53Options) (*Route53Router, error) {
	if client == nil {
		return nil, fmt.Errorf("route53 router: nil client")
	}
	zone := rec.HostedZoneID[strings.LastIndex(rec.HostedZoneID, "/")+1:]
	if zone == "" || len(zone) > 32 || strings.Trim(zone, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
		return nil, fmt.Errorf("route53 router: HostedZoneID %q: want a zone ID such as Z0123456789ABC", rec.HostedZoneID)
	}
	name, err := normaliseRecordName(rec.Name)
	if err != nil {
		return nil, fmt.Errorf("route53 router: zone %s: %w", zone, err)
	}
	typ := strings.ToUpper(rec.Type)
	if !route53Types[typ] {
		return nil, fmt.Errorf("route53 router: zone %s record %s: Type %q is not a record type weighted routing supports (%s)",
			zone, name, rec.Type, strings.Join(sortedKeys(route53Types), ", "))
	}
	if len(rec.SetIdentifiers) == 0 {
		return nil, fmt.Errorf("route53 router: zone %s record %s: SetIdentifiers: need at least one", zone, name)
	}
	seen := make(map[string]bool, len(rec.SetIdentifiers))
	for _, id := range rec.SetIdentifiers {
		if id == "" || len(id) > 128 {
			return nil, fmt.Errorf("route53 router: zone %s record %s: SetIdentifier %q must be 1–128 characters", zone, name, id)
		}
		if seen[id] {
			return nil, fmt.Errorf("route53 router: zone %s record %s: SetIdentifier %q given twice", zone, name, id)
		}
		seen[id] = true
	}
	syncMax, err := durationOr("route53 router: SyncTimeout", opts.SyncTimeout, 3*time.Minute)
	if err != nil {
		return nil, err
	}
	poll, err := durationOr("route53 router: PollInterval", opts.PollInterval, 5*time.Second)
	if err != nil {
		return nil, err
	}
	if opts.AliasTTL, err = durationOr("route53 router: AliasTTL", opts.AliasTTL, 60*time.Second); err != nil {
		return nil, err
	}
	r := &Route53Router{
		awsBase: newAWSBase(opts.Logger, opts.Clock, opts.Pacer),
		client:  client,
		zone:    zone,
		name:    name,
		rrType:  r53types.RRType(typ),
		ids:     sortedKeys(seen),
		opts:    opts,
		syncMax: syncMax,
		poll:    poll,
	}
	if err := r.setCallTimeout("route53 router: CallTimeout", opts.CallTimeout); err != nil {
		return nil, err
	}
	r.log = r.log.With(zap.String("zone", zone), zap.String("record", name), zap.String("type", typ))
	return r, nil
}

// r53Opt bounds each attempt of a Route 53 call by CallTimeout.
func (r *Route53Router) r53Opt(o *route53.Options) { o.HTTPClient = r.bound(o.HTTPClient) }

// normaliseRecordName returns name as Route 53 lists it: lower case, with
// a final dot, a leading wildcard escaped as \052.
func normaliseRecordName(name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" || n == "." {
		return "", fmt.Errorf("record Name %q is empty", name)
	}
	if !strings.HasSuffix(n, ".") {
		n += "."
	}
	if strings.HasPrefix(n, "*.") {
		n = `\052` + n[1:]
	}
	if len(n) > 255 {
		return "", fmt.Errorf("record Name %q is longer than 255 characters", name)
	}
	if strings.Contains(n, "..") {
		return "", fmt.Errorf("record Name %q has an empty label", name)
	}
	return n, nil
}

// Weights lists the records and returns their weights as percentages.
func (r *Route53Router) Weights(ctx context.Context) (providers.Weights, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	recs, err := r.list(ctx)
	if err != nil {
		return nil, err
	}
	return r.weightsOf(recs)
}

// Propagation is TTL: strategies take it as their propagation when the
// user sets none (see providers.Propagator).
func (r *Route53Router) Propagation(ctx context.Context) (time.Duration, error) { return r.TTL(ctx) }

// TTL returns the longest TTL of the router's records (AliasTTL for alias
// records): how long resolvers may keep answering with the weights before
// the last change. A rollback takes up to this long to reach every client,
// so the rollback window of draining a target must be at least this long.
func (r *Route53Router) TTL(ctx context.Context) (time.Duration, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	recs := r.cached
	if recs == nil {
		var err error
		if recs, err = r.list(ctx); err != nil {
			return 0, err
		}
	}
	var ttl time.Duration
	for _, rec := range recs {
		d := r.opts.AliasTTL
		if rec.AliasTarget == nil {
			d = time.Duration(aws.ToInt64(rec.TTL)) * time.Second
		}
		ttl = max(ttl, d)
	}
	return ttl, nil
}

// SetWeights writes w in one ChangeResourceRecordSets batch and waits,
// within SyncTimeout, until the change is INSYNC. Weights the records
// already have are left out of the batch; when none changes, the records
// are listed once to confirm it and nothing is written.
func (r *Route53Router) SetWeights(ctx context.Context, w providers.Weights) error {
	want, err := checkWeights(w, r.ids)
	if err != nil {
		return fmt.Errorf("set weights on %s: %w", r, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	recs, fresh := r.cached, false
	if recs == nil || r.opts.FreshRead {
		if recs, err = r.list(ctx); err != nil {
			return err
		}
		fresh = true
	}
	deadline := r.clock.Now().Add(r.syncMax)
	var change *r53types.ChangeInfo
	for attempt := 0; ; attempt++ {
		batch, next := r.batch(recs, want)
		if len(batch) == 0 {
			if !fresh {
				// Nothing to write by the router's copy: make sure of it
				// before saying so (a revert must not trust a stale copy).
				if recs, err = r.list(ctx); err != nil {
					return err
				}
				fresh = true
				continue
			}
			r.log.Debug("weights already set", zap.Stringer("weights", w))
			return nil
		}
		change, err = r.change(ctx, batch, deadline)
		if err == nil {
			r.cached = next
			break
		}
		r.cached = nil
		if apiErrorCode(err) != "InvalidChangeBatch" || attempt > 0 {
			return fmt.Errorf("set weights %s on %s: %w", w, r, err)
		}
		// The records changed since the router last saw them: list once
		// and build the batch again.
		r.log.Info("records changed underneath, listing again", zap.Error(err))
		if recs, err = r.list(ctx); err != nil {
			return err
		}
		fresh = true
	}
	id := aws.ToString(change.Id)
	r.log.Info("weights submitted", zap.Stringer("weights", w), zap.String("change", id))
	if change.Status == r53types.ChangeStatusInsync {
		return nil
	}
	err = r.pollUntil(ctx, fmt.Sprintf("set weights %s on %s: change %s to reach INSYNC", w, r, id), deadline.Sub(r.clock.Now()), r.poll,
		func(ctx context.Context) (bool, string, error) {
			if err := r.pace(ctx, "GetChange"); err != nil {
				return false, "", err
			}
			out, err := r.client.GetChange(ctx, &route53.GetChangeInput{Id: change.Id}, r.r53Opt)
			if err != nil {
				return false, "", fmt.Errorf("set weights %s on %s: GetChange %s: %w", w, r, id, err)
			}
			if out.ChangeInfo == nil {
				return false, "", fmt.Errorf("set weights %s on %s: GetChange %s: no ChangeInfo in the answer", w, r, id)
			}
			st := out.ChangeInfo.Status
			return st == r53types.ChangeStatusInsync, "still " + string(st), nil
		})
	if err != nil {
		return err
	}
	r.log.Info("weights in sync", zap.Stringer("weights", w), zap.String("change", id))
	return nil
}

// String names the records: "zone Z123 app.example.com. A".
func (r *Route53Router) String() string {
	return fmt.Sprintf("zone %s %s %s", r.zone, r.name, r.rrType)
}

// change submits batch, retrying PriorRequestNotComplete until deadline.
func (r *Route53Router) change(ctx context.Context, batch []r53types.Change, deadline time.Time) (*r53types.ChangeInfo, error) {
	in := &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(r.zone),
		ChangeBatch:  &r53types.ChangeBatch{Changes: batch, Comment: aws.String("safecutover: set weights")},
	}
	p := r.poller("ChangeResourceRecordSets: retry PriorRequestNotComplete", deadline.Sub(r.clock.Now()), r.poll)
	p.Retry = func(err error) bool { return apiErrorCode(err) == "PriorRequestNotComplete" }
	var info *r53types.ChangeInfo
	err := p.Until(ctx, func(ctx context.Context) (bool, string, error) {
		if err := r.pace(ctx, "ChangeResourceRecordSets"); err != nil {
			return false, "", err
		}
		out, err := r.client.ChangeResourceRecordSets(ctx, in, r.r53Opt)
		if err != nil {
			return false, "", fmt.Errorf("ChangeResourceRecordSets: %w", err)
		}
		if out.ChangeInfo == nil {
			return false, "", fmt.Errorf("ChangeResourceRecordSets: no ChangeInfo in the answer")
		}
		info = out.ChangeInfo
		return true, "", nil
	})
	return info, err
}

// batch returns the changes that give the records the weights want, and
// the records as they will be after it.
func (r *Route53Router) batch(recs map[string]r53types.ResourceRecordSet, want map[string]int) ([]r53types.Change, map[string]r53types.ResourceRecordSet) {
	var batch []r53types.Change
	next := make(map[string]r53types.ResourceRecordSet, len(recs))
	for _, id := range r.ids {
		old := recs[id]
		next[id] = old
		if aws.ToInt64(old.Weight) == int64(want[id]) {
			continue
		}
		nw := old
		nw.Weight = aws.Int64(int64(want[id]))
		next[id] = nw
		oldCopy := old
		batch = append(batch,
			r53types.Change{Action: r53types.ChangeActionDelete, ResourceRecordSet: &oldCopy},
			r53types.Change{Action: r53types.ChangeActionCreate, ResourceRecordSet: &nw})
	}
	return batch, next
}

// list reads the record sets of the router's name and type, checks that
// every target has a weighted record and caches them.
func (r *Route53Router) list(ctx context.Context) (map[string]r53types.ResourceRecordSet, error) {
	r.cached = nil
	in := &route53.ListResourceRecordSetsInput{
		HostedZoneId:    aws.String(r.zone),
		StartRecordName: aws.String(r.name),
		StartRecordType: r.rrType,
	}
	recs := make(map[string]r53types.ResourceRecordSet, len(r.ids))
	others := map[string]int64{}
	const maxPages = 20
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("list %s: more than %d pages of records", r, maxPages)
		}
		if err := r.pace(ctx, "ListResourceRecordSets"); err != nil {
			return nil, err
		}
		out, err := r.client.ListResourceRecordSets(ctx, in, r.r53Opt)
		if err != nil {
			return nil, fmt.Errorf("list %s: ListResourceRecordSets: %w", r, err)
		}
		done := !out.IsTruncated
		for _, rec := range out.ResourceRecordSets {
			if !strings.EqualFold(aws.ToString(rec.Name), r.name) || rec.Type != r.rrType {
				done = true
				break
			}
			id := aws.ToString(rec.SetIdentifier)
			if slices.Contains(r.ids, id) {
				if rec.Weight == nil {
					return nil, fmt.Errorf("list %s: record %q is not a weighted record (it has no Weight)", r, id)
				}
				recs[id] = rec
			} else {
				others[id] = aws.ToInt64(rec.Weight)
			}
		}
		if done || !strings.EqualFold(aws.ToString(out.NextRecordName), r.name) || out.NextRecordType != r.rrType {
			break
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier
	}
	var missing []string
	for _, id := range r.ids {
		if _, ok := recs[id]; !ok {
			missing = append(missing, fmt.Sprintf("%q", id))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("list %s: hosted zone has no weighted record with SetIdentifier %s", r, strings.Join(missing, ", "))
	}
	for _, id := range sortedKeys(others) {
		if others[id] > 0 {
			return nil, fmt.Errorf("list %s: record %q has weight %d but is not one of the router's targets; add it or set its weight to 0", r, id, others[id])
		}
	}
	r.cached = recs
	return recs, nil
}

func (r *Route53Router) weightsOf(recs map[string]r53types.ResourceRecordSet) (providers.Weights, error) {
	raw := make(map[string]int64, len(recs))
	for id, rec := range recs {
		raw[id] = aws.ToInt64(rec.Weight)
	}
	w, err := percentages(raw)
	if err != nil {
		return nil, fmt.Errorf("read weights of %s: %w", r, err)
	}
	return w, nil
}
