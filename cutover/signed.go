package cutover

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Signature is a signed command's proof of origin: the canonical payload
// that was signed (see Payload) and a signature over it by one key.
type Signature struct {
	// Scheme names the kind of key: "ssh" (an SSH key, the format of
	// ssh-keygen -Y sign) or "kms" (an AWS KMS asymmetric key).
	Scheme string `json:"scheme"`
	// Key identifies the key: an SSH key's SHA256 fingerprint
	// ("SHA256:..."), a KMS key's ARN. It is the identity the two-person
	// rule compares.
	Key string `json:"key"`
	// Algorithm is the signing algorithm where the scheme has several
	// (KMS: "ECDSA_SHA_256", ...); empty for SSH, whose signature says it.
	Algorithm string `json:"alg,omitempty"`
	// Payload is the canonical payload signed (Payload.Marshal).
	Payload string `json:"payload"`
	// Blob is the signature: for SSH the armored SSHSIG text, for KMS the
	// signature KMS returned.
	Blob []byte `json:"blob"`
}

// Signer signs a command's canonical payload with one key.
//
// Namespace is the domain the signature is for, one per role (see
// Role.Namespace): a signature made for one role is not valid for
// another. Sign returns the Signature with every field but Payload set;
// the caller sets Payload. Implementations are safe for concurrent use
// and honour ctx (a KMS call, an ssh-agent round trip).
type Signer interface {
	Sign(ctx context.Context, namespace string, payload []byte) (Signature, error)
}

// SignerFunc adapts a function to Signer.
type SignerFunc func(ctx context.Context, namespace string, payload []byte) (Signature, error)

// Sign calls f.
func (f SignerFunc) Sign(ctx context.Context, namespace string, payload []byte) (Signature, error) {
	return f(ctx, namespace, payload)
}

var _ Signer = SignerFunc(nil)

// KeyVerifier checks signatures of the keys it knows.
//
// VerifySignature returns nil when sig.Blob is a valid signature by the key
// sig.Key over sig.Payload in namespace. It returns an error wrapping
// ErrUnknownKey when it does not know sig.Key (so that another verifier may
// be asked), and any other error when the signature does not verify.
// Implementations are safe for concurrent use and honour ctx.
type KeyVerifier interface {
	VerifySignature(ctx context.Context, namespace string, sig Signature) error
}

// Errors of signature checks.
var (
	// ErrUnknownKey: no configured approver or verifier knows the key.
	ErrUnknownKey = errors.New("unknown key")
	// ErrBadSignature: the signature does not verify.
	ErrBadSignature = errors.New("bad signature")
	// ErrRefused: a command was refused (see *RefusedError).
	ErrRefused = errors.New("command refused")
)

// PayloadVersion is the version of the canonical payload format.
const PayloadVersion = 1

// payloadStart is the Command of the payload that signs a cutover's start.
const payloadStart Command = "start"

// Payload is what a signed command means, signed as canonical JSON: the
// cutover, the plan (by the hash of the outline its start record
// declares), the command, the stage it is for, who gives it and why, when
// it was signed and a nonce that makes every signature single-use.
type Payload struct {
	V        int       `json:"v"`
	Cutover  string    `json:"cutover"`
	PlanHash string    `json:"plan"`
	Command  Command   `json:"cmd"`
	Stage    string    `json:"stage"`
	Actor    string    `json:"actor"`
	Reason   string    `json:"reason"`
	Time     time.Time `json:"time"`
	Nonce    string    `json:"nonce"`
}

// Marshal returns p's canonical form: JSON with the fields in declaration
// order, the time in UTC.
func (p Payload) Marshal() []byte {
	p.Time = p.Time.UTC()
	b, err := json.Marshal(p)
	if err != nil {
		// A struct of strings and a time cannot fail to marshal but for
		// a year outside 0–9999, which ParsePayload never yields.
		return nil
	}
	return b
}

// ParsePayload decodes a canonical payload. Anything but the exact form
// Marshal writes (an unknown field, another order, trailing data, another
// version) is an error wrapping ErrBadSignature.
func ParsePayload(b []byte) (Payload, error) {
	var p Payload
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Payload{}, fmt.Errorf("payload: %w: %w", err, ErrBadSignature)
	}
	if p.V != PayloadVersion {
		return Payload{}, fmt.Errorf("payload: v: %d: want %d: %w", p.V, PayloadVersion, ErrBadSignature)
	}
	if !bytes.Equal(p.Marshal(), b) {
		return Payload{}, fmt.Errorf("payload: not in canonical form: %w", ErrBadSignature)
	}
	return p, nil
}

// NewNonce returns a fresh random nonce for a Payload.
func NewNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// PlanHash returns the hash that signed commands of a cutover carry: a
// SHA-256 over the plan name, the stage names and the outline its start
// record declares, as "sha256:HEX". A signature over another plan, or over
// the same plan with a stage's reversibility, bake or approval changed,
// does not match it.
func PlanHash(start Record) string {
	b, _ := json.Marshal(struct {
		Plan    string         `json:"plan"`
		Stages  []string       `json:"stages"`
		Outline []StageOutline `json:"outline"`
	}{start.Plan, start.Stages, start.Outline})
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// SignCommand signs rec (a RecCommand, or a RecStart naming its initiator
// in Actor) for cutover id whose plan hash is planHash, with s, and sets
// rec.Signed. The signed time is rec.Time, which must be set.
func SignCommand(ctx context.Context, s Signer, id, planHash string, rec *Record) error {
	if s == nil {
		return errors.New("sign: signer is nil")
	}
	cmd := rec.Command
	if rec.Type == RecStart {
		cmd = payloadStart
	}
	role, err := roleOf(cmd)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	if rec.Time.IsZero() {
		return errors.New("sign: record time: zero; want when the command is given")
	}
	p := Payload{V: PayloadVersion, Cutover: id, PlanHash: planHash, Command: cmd, Stage: rec.Stage, Actor: rec.Actor, Reason: rec.Reason, Time: rec.Time, Nonce: NewNonce()}
	msg := p.Marshal()
	sig, err := s.Sign(ctx, role.Namespace(), msg)
	if err != nil {
		return fmt.Errorf("sign %s for cutover %s: %w", cmd, id, err)
	}
	sig.Payload = string(msg)
	rec.Signed = &sig
	return nil
}

// Role is a set of things a configured approver may do.
type Role uint8

// The roles. RolePause covers pause and resume.
const (
	RoleStart Role = 1 << iota
	RoleApprove
	RoleAbort
	RolePromote
	RolePause
	// RoleAll is every role.
	RoleAll = RoleStart | RoleApprove | RoleAbort | RolePromote | RolePause
)

var roleNames = []struct {
	r    Role
	name string
}{{RoleStart, "start"}, {RoleApprove, "approve"}, {RoleAbort, "abort"}, {RolePromote, "promote"}, {RolePause, "pause"}}

// NamespacePrefix starts the namespace of every role's signatures.
const NamespacePrefix = "safecutover-"

// String returns the roles' names joined by commas ("approve,abort"), or
// "none".
func (r Role) String() string {
	var names []string
	for _, n := range roleNames {
		if r&n.r != 0 {
			names = append(names, n.name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

// Namespace returns the signature namespace of a single role:
// "safecutover-approve" and so on. In an OpenSSH allowed_signers file the
// namespaces option of a key lists the namespaces, so the roles, it is
// allowed.
func (r Role) Namespace() string {
	return NamespacePrefix + r.String()
}

// ParseRoles parses a comma-separated list of role names (start, approve,
// abort, promote, pause; "resume" is taken as pause; "all" is every role).
func ParseRoles(s string) (Role, error) {
	var r Role
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		switch f {
		case "all":
			r |= RoleAll
			continue
		case "resume":
			f = "pause"
		}
		var found bool
		for _, n := range roleNames {
			if n.name == f {
				r |= n.r
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("roles: %q: want a comma-separated list of start, approve, abort, promote, pause (or resume), all", f)
		}
	}
	return r, nil
}

// roleOf returns the role a command needs.
func roleOf(c Command) (Role, error) {
	switch c {
	case payloadStart:
		return RoleStart, nil
	case CmdApprove:
		return RoleApprove, nil
	case CmdAbort:
		return RoleAbort, nil
	case CmdPromote:
		return RolePromote, nil
	case CmdPause, CmdResume:
		return RolePause, nil
	}
	return 0, fmt.Errorf("command: %q: want start, approve, abort, promote, pause or resume", c)
}
