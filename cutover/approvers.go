package cutover

import (
	"context"
	"errors"
	"fmt"
	"path"
	"time"
)

// Approver is one configured key: who may sign with it, and for what.
type Approver struct {
	// Key identifies the key as Signature.Key does: an SSH key's SHA256
	// fingerprint, a KMS key's ARN.
	Key string
	// Principals are the names the key may sign as (the Actor of a
	// command), or patterns of them in path.Match syntax
	// ("*@example.com"). A command whose actor none matches is refused,
	// so nobody signs under another person's name.
	Principals []string
	// Roles is what the key may do; none is allowed (the key is known,
	// and every command it signs is refused as the wrong role).
	Roles Role
	// ValidAfter and ValidBefore bound when the key may sign (the signed
	// time); zero is unbounded. They let a rotated key be retired
	// without editing the journals it signed.
	ValidAfter, ValidBefore time.Time
}

// Approvers is the configured set of keys allowed to start and steer
// cutovers, and the verifiers that check their signatures. When a runner
// has Approvers, it takes only commands signed by a key whose entry
// allows them; every other is refused with the reason journaled.
type Approvers struct {
	// Entries are the configured keys. A key may appear in several
	// entries (one per principal, say); a command is accepted when one
	// entry allows it.
	Entries []Approver
	// Verifiers check signatures; each key's signature is checked by the
	// first verifier that knows the key.
	Verifiers []KeyVerifier
	// Skew is how far a signed time may lie after the journal time of its
	// record (a signer's clock ahead of the journal's). Default 5m.
	Skew time.Duration
	// MaxAge is how long before its journal record a command may have
	// been signed: a signature kept longer, even unused, is refused as a
	// replay. Default 15m.
	MaxAge time.Duration
}

// Defaults of Approvers.
const (
	defaultSkew   = 5 * time.Minute
	defaultMaxAge = 15 * time.Minute
)

// Validate reports the first entry or setting of a that is unusable.
func (a *Approvers) Validate() error {
	if a.Skew < 0 {
		return fmt.Errorf("approvers: Skew: %s negative; want ≥ 0 (0: default %s)", a.Skew, defaultSkew)
	}
	if a.MaxAge < 0 {
		return fmt.Errorf("approvers: MaxAge: %s negative; want ≥ 0 (0: default %s)", a.MaxAge, defaultMaxAge)
	}
	if len(a.Entries) == 0 {
		return errors.New("approvers: Entries: empty; want at least one key")
	}
	if len(a.Verifiers) == 0 {
		return errors.New("approvers: Verifiers: empty; want one per kind of key configured")
	}
	for i, e := range a.Entries {
		if e.Key == "" {
			return fmt.Errorf("approvers: entry %d: Key: empty; want an SSH key fingerprint or a KMS key ARN", i)
		}
		if len(e.Principals) == 0 {
			return fmt.Errorf("approvers: entry %d (%s): Principals: empty; want the names the key signs as", i, e.Key)
		}
		for _, p := range e.Principals {
			if _, err := path.Match(p, ""); err != nil || p == "" {
				return fmt.Errorf("approvers: entry %d (%s): principal %q: want a name or a path.Match pattern", i, e.Key, p)
			}
		}
		if e.Roles&^RoleAll != 0 {
			return fmt.Errorf("approvers: entry %d (%s): Roles: %d: want a set of start, approve, abort, promote, pause (0: none)", i, e.Key, e.Roles)
		}
		if !e.ValidAfter.IsZero() && !e.ValidBefore.IsZero() && !e.ValidBefore.After(e.ValidAfter) {
			return fmt.Errorf("approvers: entry %d (%s): ValidBefore: %s not after ValidAfter %s", i, e.Key, e.ValidBefore.Format(time.RFC3339), e.ValidAfter.Format(time.RFC3339))
		}
	}
	return nil
}

// RefusalReason says why a command was refused.
type RefusalReason string

// The refusal reasons.
const (
	RefusedUnsigned     RefusalReason = "unsigned"
	RefusedUnknownKey   RefusalReason = "unknown key"
	RefusedWrongRole    RefusalReason = "wrong role"
	RefusedBadSignature RefusalReason = "bad signature"
	RefusedReplayed     RefusalReason = "replayed"
	// RefusedTwoPerson: the approval is by the cutover's initiator under
	// the two-person rule.
	RefusedTwoPerson RefusalReason = "two-person rule"
)

// RefusedError says why a command (the record Seq) was refused. It
// unwraps to ErrRefused.
type RefusedError struct {
	Seq     uint64
	Command Command
	Reason  RefusalReason
	Detail  string
}

// Error says "refused: REASON: DETAIL".
func (e *RefusedError) Error() string {
	return fmt.Sprintf("refused: %s: %s", e.Reason, e.Detail)
}

// Unwrap returns ErrRefused.
func (e *RefusedError) Unwrap() error { return ErrRefused }

// Identity is who a verified signature proves gave a command.
type Identity struct {
	// Key is the signing key (Signature.Key); Scheme its kind.
	Key    string
	Scheme string
	// Actor is the name signed, one the key's entry allows.
	Actor string
	// Time is the signed time.
	Time time.Time
}

// checker verifies the signed commands of one cutover in journal order:
// it knows the plan hash and start of the cutover and the nonces already
// used.
type checker struct {
	a        *Approvers
	id       string
	planHash string
	started  time.Time
	prev     time.Time
	nonces   map[string]uint64
}

// newChecker returns a checker for the cutover whose start record is
// start.
func (a *Approvers) newChecker(id string, start *Record) *checker {
	return &checker{a: a, id: id, planHash: PlanHash(*start), started: start.Time, nonces: make(map[string]uint64)}
}

func (a *Approvers) skew() time.Duration {
	if a.Skew == 0 {
		return defaultSkew
	}
	return a.Skew
}

func (a *Approvers) maxAge() time.Duration {
	if a.MaxAge == 0 {
		return defaultMaxAge
	}
	return a.MaxAge
}

// check verifies rec, the next command (or the start record) of the
// cutover, and returns who signed it, or a *RefusedError. It must see
// every record in order (see see); a refused command's nonce stays used.
// An error that is not a *RefusedError (a verifier's call failed) says
// nothing about the command: check may be called again.
func (c *checker) check(ctx context.Context, rec *Record) (Identity, error) {
	cmd := rec.Command
	if rec.Type == RecStart {
		cmd = payloadStart
	}
	refuse := func(r RefusalReason, format string, args ...any) (Identity, error) {
		return Identity{}, &RefusedError{Seq: rec.Seq, Command: cmd, Reason: r, Detail: fmt.Sprintf(format, args...)}
	}
	role, err := roleOf(cmd)
	if err != nil {
		return refuse(RefusedBadSignature, "%s", err)
	}
	sig := rec.Signed
	if sig == nil {
		return refuse(RefusedUnsigned, "%s by %q carries no signature; approvers are configured", cmd, rec.Actor)
	}
	entries := c.a.entries(sig.Key)
	if len(entries) == 0 {
		return refuse(RefusedUnknownKey, "key %s is not a configured approver", sig.Key)
	}
	// The signature first: what it says is worth nothing until then.
	if err := c.a.verify(ctx, role.Namespace(), *sig); err != nil {
		switch {
		case errors.Is(err, ErrUnknownKey):
			return refuse(RefusedUnknownKey, "no verifier knows key %s: %s", sig.Key, err)
		case errors.Is(err, ErrBadSignature):
			return refuse(RefusedBadSignature, "key %s: %s", sig.Key, err)
		}
		return Identity{}, fmt.Errorf("verify %s by key %s: %w", cmd, sig.Key, err)
	}
	p, err := ParsePayload([]byte(sig.Payload))
	if err != nil {
		return refuse(RefusedBadSignature, "key %s: %s", sig.Key, err)
	}
	// A payload for another cutover, plan or stage is a signature copied
	// from where it was given.
	switch {
	case p.Cutover != c.id:
		return refuse(RefusedReplayed, "signed for cutover %q, not %q", p.Cutover, c.id)
	case p.PlanHash != c.planHash:
		return refuse(RefusedReplayed, "signed for plan %s, this cutover runs %s", p.PlanHash, c.planHash)
	case p.Stage != rec.Stage:
		return refuse(RefusedReplayed, "signed for stage %q, the record names %q", p.Stage, rec.Stage)
	case p.Command != cmd || p.Actor != rec.Actor || p.Reason != rec.Reason:
		return refuse(RefusedBadSignature, "the record says %s by %q (%q), the signature %s by %q (%q)", cmd, rec.Actor, rec.Reason, p.Command, p.Actor, p.Reason)
	}
	if at, ok := c.nonces[p.Nonce]; ok {
		return refuse(RefusedReplayed, "nonce %s already used by record seq %d", p.Nonce, at)
	}
	c.nonces[p.Nonce] = rec.Seq
	skew, age := c.a.skew(), c.a.maxAge()
	switch {
	case p.Time.After(rec.Time.Add(skew)):
		return refuse(RefusedReplayed, "signed at %s, after its record's time %s plus the skew of %s", stamp(p.Time), stamp(rec.Time), skew)
	case p.Time.Before(rec.Time.Add(-age)):
		return refuse(RefusedReplayed, "signed at %s, more than %s before its record's time %s", stamp(p.Time), age, stamp(rec.Time))
	case rec.Type != RecStart && p.Time.Before(c.started.Add(-skew)):
		return refuse(RefusedReplayed, "signed at %s, before the cutover started at %s", stamp(p.Time), stamp(c.started))
	case rec.Time.Before(c.prev.Add(-skew)):
		return refuse(RefusedReplayed, "journaled at %s, before the record preceding it (%s)", stamp(rec.Time), stamp(c.prev))
	}
	var principal, valid, roled bool
	for _, e := range entries {
		if !matchAny(e.Principals, p.Actor) {
			continue
		}
		principal = true
		if !e.ValidAfter.IsZero() && p.Time.Before(e.ValidAfter) || !e.ValidBefore.IsZero() && !p.Time.Before(e.ValidBefore) {
			continue
		}
		valid = true
		if e.Roles&role != 0 {
			roled = true
			break
		}
	}
	switch {
	case !principal:
		return refuse(RefusedUnknownKey, "key %s may not sign as %q", sig.Key, p.Actor)
	case !valid:
		return refuse(RefusedUnknownKey, "key %s of %q is not valid at %s (rotated or not yet in force)", sig.Key, p.Actor, stamp(p.Time))
	case !roled:
		return refuse(RefusedWrongRole, "key %s of %q may not %s", sig.Key, p.Actor, cmd)
	}
	return Identity{Key: sig.Key, Scheme: sig.Scheme, Actor: p.Actor, Time: p.Time}, nil
}

// see records that rec, checked or not, is in the journal, for the time
// order of the records after it.
func (c *checker) see(rec *Record) {
	if rec.Time.After(c.prev) {
		c.prev = rec.Time
	}
}

// entries returns the entries of key.
func (a *Approvers) entries(key string) []Approver {
	var out []Approver
	for _, e := range a.Entries {
		if e.Key == key {
			out = append(out, e)
		}
	}
	return out
}

// verify asks the verifiers in turn until one knows sig.Key.
func (a *Approvers) verify(ctx context.Context, namespace string, sig Signature) error {
	err := fmt.Errorf("key %s: no verifier configured: %w", sig.Key, ErrUnknownKey)
	for _, v := range a.Verifiers {
		if err = v.VerifySignature(ctx, namespace, sig); !errors.Is(err, ErrUnknownKey) {
			return err
		}
	}
	return err
}

// matchAny reports whether name matches one of patterns.
func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, err := path.Match(p, name); ok && err == nil {
			return true
		}
	}
	return false
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Verification is the outcome of checking one record of a journal.
type Verification struct {
	Seq     uint64
	Type    RecordType
	Command Command
	Stage   string
	// Actor is the typed name; Identity, when Err is nil, who signed.
	Actor    string
	Identity Identity
	// Err is a *RefusedError when the record was refused.
	Err error
}

// VerifyJournal re-verifies every signed record of a cutover (its start
// and its commands) against a, in journal order, as a runner would: it is
// the audit of who started and steered it. An error is returned only when
// the records cannot be judged at all (a corrupt journal, a verifier that
// cannot be reached); refusals are in the Verifications.
func (a *Approvers) VerifyJournal(ctx context.Context, id string, recs []Record) ([]Verification, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if _, err := Fold(id, recs); err != nil {
		return nil, fmt.Errorf("verify journal: %w", err)
	}
	c := a.newChecker(id, &recs[0])
	var out []Verification
	for i := range recs {
		rec := &recs[i]
		if rec.Type != RecStart && rec.Type != RecCommand {
			c.see(rec)
			continue
		}
		who, err := c.check(ctx, rec)
		c.see(rec)
		var refused *RefusedError
		if err != nil && !errors.As(err, &refused) {
			return out, fmt.Errorf("verify journal %s: record seq %d: %w", id, rec.Seq, err)
		}
		out = append(out, Verification{Seq: rec.Seq, Type: rec.Type, Command: rec.Command, Stage: rec.Stage, Actor: rec.Actor, Identity: who, Err: err})
	}
	return out, nil
}
