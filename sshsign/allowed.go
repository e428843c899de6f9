package sshsign

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/safecutover/safecutover/cutover"
)

// maxLine bounds one line of an allowed_signers file.
const maxLine = 64 << 10

// AllowedSigners is a parsed OpenSSH allowed_signers file: the keys that
// may sign cutover commands, as whom, and for which roles. It is a
// cutover.KeyVerifier of the keys it lists.
//
// Each line is "principals [options] keytype base64-key [comment]", as
// ssh-keygen(1) describes. The roles of a key are the namespaces its
// namespaces option allows, among safecutover-start, safecutover-approve,
// safecutover-abort, safecutover-promote and safecutover-pause (patterns
// such as safecutover-* are allowed); a line without a namespaces option
// grants no role, so that an allowed_signers file kept for git commit
// signing does not let its keys steer cutovers. The valid-after and
// valid-before options bound when a key may sign (a timestamp
// YYYYMMDD[HHMM[SS]], in UTC with a Z suffix, else local time, as
// ssh-keygen reads it). The cert-authority option is not supported.
type AllowedSigners struct {
	lines []allowedLine
}

type allowedLine struct {
	n   int // line number, from 1
	pub ssh.PublicKey
	fp  string
	a   cutover.Approver
}

var _ cutover.KeyVerifier = (*AllowedSigners)(nil)

// ParseAllowedSigners reads an allowed_signers file. An error names the
// line and the field that is wrong. A file with no key is an error.
func ParseAllowedSigners(r io.Reader) (*AllowedSigners, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	as := &AllowedSigners{}
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		l, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("allowed signers: line %d: %w", n, err)
		}
		l.n = n
		as.lines = append(as.lines, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("allowed signers: %w", err)
	}
	if len(as.lines) == 0 {
		return nil, errors.New("allowed signers: no key; want lines of \"principals [options] keytype base64-key\"")
	}
	return as, nil
}

// parseLine parses one non-empty, non-comment line.
func parseLine(line string) (allowedLine, error) {
	var principals, rest string
	if line[0] == '"' {
		end := strings.IndexByte(line[1:], '"')
		if end < 0 {
			return allowedLine{}, errors.New("principals: unterminated quote")
		}
		principals, rest = line[1:end+1], line[end+2:]
	} else {
		i := strings.IndexAny(line, " \t")
		if i < 0 {
			return allowedLine{}, errors.New("want \"principals [options] keytype base64-key\"; got one field")
		}
		principals, rest = line[:i], line[i:]
	}
	var l allowedLine
	for _, p := range strings.Split(principals, ",") {
		if p == "" || strings.HasPrefix(p, "!") {
			return l, fmt.Errorf("principal %q: want a name or pattern (negated patterns are not supported)", p)
		}
		if _, err := path.Match(p, ""); err != nil {
			return l, fmt.Errorf("principal %q: %w", p, err)
		}
		l.a.Principals = append(l.a.Principals, p)
	}
	rest = strings.TrimSpace(rest)
	pub, _, opts, _, err := ssh.ParseAuthorizedKey([]byte(rest))
	if err != nil {
		return l, fmt.Errorf("key: %w", err)
	}
	l.pub = pub
	l.fp = ssh.FingerprintSHA256(pub)
	l.a.Key = l.fp
	var namespaces []string
	for _, o := range opts {
		name, val, hasVal := strings.Cut(o, "=")
		name = strings.ToLower(name)
		if hasVal {
			v, ok := unquote(val)
			if !ok {
				return l, fmt.Errorf("option %s: value %s: want a double-quoted string", name, val)
			}
			val = v
		}
		switch {
		case name == "cert-authority":
			return l, errors.New("option cert-authority: not supported; list each key")
		case name == "namespaces" && hasVal:
			namespaces = strings.Split(val, ",")
		case name == "valid-after" && hasVal:
			if l.a.ValidAfter, err = parseStamp(val); err != nil {
				return l, fmt.Errorf("option valid-after: %w", err)
			}
		case name == "valid-before" && hasVal:
			if l.a.ValidBefore, err = parseStamp(val); err != nil {
				return l, fmt.Errorf("option valid-before: %w", err)
			}
		default:
			return l, fmt.Errorf("option %q: want namespaces=, valid-after= or valid-before=", o)
		}
	}
	for _, ns := range namespaces {
		if ns == "" || strings.HasPrefix(ns, "!") {
			return l, fmt.Errorf("option namespaces: %q: want a namespace or pattern (negated patterns are not supported)", ns)
		}
		if _, err := path.Match(ns, ""); err != nil {
			return l, fmt.Errorf("option namespaces: %q: %w", ns, err)
		}
	}
	for _, r := range []cutover.Role{cutover.RoleStart, cutover.RoleApprove, cutover.RoleAbort, cutover.RolePromote, cutover.RolePause} {
		for _, ns := range namespaces {
			if ok, _ := path.Match(ns, r.Namespace()); ok {
				l.a.Roles |= r
			}
		}
	}
	if !l.a.ValidAfter.IsZero() && !l.a.ValidBefore.IsZero() && !l.a.ValidBefore.After(l.a.ValidAfter) {
		return l, errors.New("option valid-before: not after valid-after")
	}
	return l, nil
}

// unquote strips the double quotes ssh.ParseAuthorizedKey leaves on an
// option's value.
func unquote(s string) (string, bool) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", false
	}
	return strings.ReplaceAll(s[1:len(s)-1], `\"`, `"`), true
}

// parseStamp parses ssh-keygen's YYYYMMDD[HHMM[SS]][Z].
func parseStamp(s string) (time.Time, error) {
	loc := time.Local
	if v, ok := strings.CutSuffix(s, "Z"); ok {
		s, loc = v, time.UTC
	}
	layouts := map[int]string{8: "20060102", 12: "200601021504", 14: "20060102150405"}
	layout, ok := layouts[len(s)]
	if !ok {
		return time.Time{}, fmt.Errorf("%q: want YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, with Z for UTC", s)
	}
	t, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: %w", s, err)
	}
	return t, nil
}

// Approvers returns the configured approvers of the file, one per line,
// for cutover.Approvers.Entries.
func (as *AllowedSigners) Approvers() []cutover.Approver {
	out := make([]cutover.Approver, len(as.lines))
	for i, l := range as.lines {
		out[i] = l.a
	}
	return out
}

// VerifySignature checks an SSH signature (Scheme "ssh") by a key of the
// file. It returns an error wrapping cutover.ErrUnknownKey for another
// scheme or a key the file does not list, and one wrapping
// cutover.ErrBadSignature for a signature that does not verify.
func (as *AllowedSigners) VerifySignature(ctx context.Context, namespace string, sig cutover.Signature) error {
	if sig.Scheme != Scheme {
		return fmt.Errorf("scheme %q: %w", sig.Scheme, cutover.ErrUnknownKey)
	}
	var known []ssh.PublicKey
	for _, l := range as.lines {
		if l.fp == sig.Key {
			known = append(known, l.pub)
		}
	}
	if len(known) == 0 {
		return fmt.Errorf("ssh key %s: not in the allowed signers: %w", sig.Key, cutover.ErrUnknownKey)
	}
	s, err := decode(sig.Blob)
	if err != nil {
		return fmt.Errorf("ssh signature: %w: %w", err, cutover.ErrBadSignature)
	}
	if fp := ssh.FingerprintSHA256(s.pub); fp != sig.Key {
		return fmt.Errorf("ssh signature: made by key %s, the command names %s: %w", fp, sig.Key, cutover.ErrBadSignature)
	}
	match := false
	for _, k := range known {
		match = match || bytes.Equal(k.Marshal(), s.pub.Marshal())
	}
	if !match {
		return fmt.Errorf("ssh signature: key %s: %w", sig.Key, cutover.ErrUnknownKey)
	}
	if err := s.verify(namespace, []byte(sig.Payload)); err != nil {
		return fmt.Errorf("ssh signature by %s: %w: %w", sig.Key, err, cutover.ErrBadSignature)
	}
	return nil
}
