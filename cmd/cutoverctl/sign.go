package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/sshsign"
)

// signFlags are the flags that sign a command.
type signFlags struct {
	sshKey string // a private key file, or a .pub file of a key in ssh-agent
	kmsKey string // a KMS key ARN
}

// register registers the signing flags on fs.
func (f *signFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.sshKey, "sign-key", "", "sign the command with the SSH private key in `PATH`; a .pub file signs with that key in ssh-agent ($SSH_AUTH_SOCK), as git does")
	fs.StringVar(&f.kmsKey, "kms-key", "", "sign the command with the AWS KMS asymmetric key `ARN` (kms:Sign)")
}

// signer returns the signer the flags name, or nil for an unsigned
// command, and a function that releases it.
func (f *signFlags) signer(ctx context.Context, c *cli) (cutover.Signer, func(), error) {
	none := func() {}
	switch {
	case f.sshKey != "" && f.kmsKey != "":
		return nil, none, usageErr("%s: -sign-key and -kms-key: give one or the other", c.name)
	case strings.HasSuffix(f.sshKey, ".pub"):
		pub, err := os.ReadFile(f.sshKey)
		if err != nil {
			return nil, none, fail(exitError, "-sign-key: %w", err)
		}
		sock := c.io.getenv("SSH_AUTH_SOCK")
		if sock == "" {
			return nil, none, fail(exitError, "-sign-key %s: a public key signs through ssh-agent, and $SSH_AUTH_SOCK is not set", f.sshKey)
		}
		a, err := sshsign.Agent(sock, pub)
		if err != nil {
			return nil, none, fail(exitError, "-sign-key: %w", err)
		}
		return a, func() { a.Close() }, nil
	case f.sshKey != "":
		s, err := sshsign.LoadKey(f.sshKey, []byte(c.io.getenv("SAFECUTOVER_KEY_PASSPHRASE")))
		if err != nil {
			return nil, none, fail(exitError, "-sign-key: %w", err)
		}
		return s, none, nil
	case f.kmsKey != "":
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, none, fail(exitError, "-kms-key: AWS configuration: %w", err)
		}
		s, err := awsprovider.NewKMSSigner(kms.NewFromConfig(cfg), f.kmsKey, awsprovider.KMSSignerOptions{})
		if err != nil {
			return nil, none, usageErr("-kms-key: %w", err)
		}
		return s, none, nil
	}
	return nil, none, nil
}

// verifyFlags are the flags of verify.
type verifyFlags struct {
	allowed string
	kms     kmsApprovers
}

// kmsApprovers collects -kms-approver flags.
type kmsApprovers []cutover.Approver

func (k *kmsApprovers) String() string { return fmt.Sprint(len(*k)) }

// Set parses "PRINCIPAL ROLES ARN".
func (k *kmsApprovers) Set(s string) error {
	f := strings.Fields(s)
	if len(f) != 3 {
		return fmt.Errorf("%q: want \"PRINCIPAL ROLES ARN\", e.g. \"bob@example.com approve,abort arn:aws:kms:...:key/...\"", s)
	}
	roles, err := cutover.ParseRoles(f[1])
	if err != nil {
		return err
	}
	*k = append(*k, cutover.Approver{Principals: []string{f[0]}, Roles: roles, Key: f[2]})
	return nil
}

// runVerify re-verifies every signed record of a cutover: the audit of who
// started and steered it. It fails (exit status 1) when the runner took a
// command that does not verify.
func runVerify(ctx context.Context, c *cli, args []string) error {
	vf := &verifyFlags{}
	fs := c.flagSet()
	fs.StringVar(&vf.allowed, "allowed-signers", "", "the OpenSSH allowed_signers `FILE` of the approvers")
	fs.Var(&vf.kms, "kms-approver", "a KMS approver, \"PRINCIPAL ROLES ARN\" (repeat the flag for each)")
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	id, err := c.oneID(pos)
	if err != nil {
		return err
	}
	a := &cutover.Approvers{}
	if vf.allowed != "" {
		fh, err := os.Open(vf.allowed)
		if err != nil {
			return fail(exitError, "-allowed-signers: %w", err)
		}
		as, err := sshsign.ParseAllowedSigners(fh)
		fh.Close()
		if err != nil {
			return fail(exitError, "-allowed-signers %s: %w", vf.allowed, err)
		}
		a.Entries = append(a.Entries, as.Approvers()...)
		a.Verifiers = append(a.Verifiers, as)
	}
	if len(vf.kms) > 0 {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return fail(exitError, "-kms-approver: AWS configuration: %w", err)
		}
		v, err := awsprovider.NewKMSVerifier(kms.NewFromConfig(cfg), awsprovider.KMSVerifierOptions{})
		if err != nil {
			return fail(exitError, "-kms-approver: %w", err)
		}
		a.Entries = append(a.Entries, vf.kms...)
		a.Verifiers = append(a.Verifiers, v)
	}
	if len(a.Entries) == 0 {
		return usageErr("verify: no approvers: give -allowed-signers FILE and/or -kms-approver \"PRINCIPAL ROLES ARN\"")
	}
	_, recs, err := c.openCutover(ctx, id)
	if err != nil {
		return err
	}
	vs, err := a.VerifyJournal(ctx, id, recs)
	if err != nil {
		return fail(exitError, "verify %s: %w", id, err)
	}
	answers := map[uint64]*cutover.Record{}
	for i := range recs {
		if recs[i].Type == cutover.RecAck {
			answers[recs[i].Ref] = &recs[i]
		}
	}
	type line struct {
		Seq      uint64 `json:"seq"`
		What     string `json:"what"`
		Actor    string `json:"actor"`
		Identity string `json:"identity,omitempty"`
		Verified bool   `json:"verified"`
		Refusal  string `json:"refusal,omitempty"`
		Runner   string `json:"runner,omitempty"`
	}
	var out []line
	var bad []string
	for _, v := range vs {
		l := line{Seq: v.Seq, What: string(v.Command), Actor: v.Actor, Identity: v.Identity.Key, Verified: v.Err == nil}
		if v.Type == cutover.RecStart {
			l.What = "start"
		}
		if v.Err != nil {
			l.Refusal = v.Err.Error()
		}
		if ack := answers[v.Seq]; ack != nil {
			l.Runner = "took it"
			if ack.Error != "" {
				l.Runner = ack.Error
			}
			if ack.Error == "" && v.Err != nil {
				bad = append(bad, fmt.Sprintf("record %d: the runner took %s by %q, which does not verify: %v", v.Seq, l.What, v.Actor, v.Err))
			}
		}
		out = append(out, l)
	}
	if c.json {
		c.emitJSON(map[string]any{"cutover": id, "records": out, "problems": bad})
		c.emitted = true
	} else {
		for _, l := range out {
			verdict := "verified " + l.Identity
			if !l.Verified {
				verdict = l.Refusal
			}
			runner := ""
			if l.Runner != "" {
				runner = "; runner: " + l.Runner
			}
			c.printf("%4d %-8s %-24s %s%s\n", l.Seq, l.What, l.Actor, verdict, runner)
		}
	}
	if len(bad) > 0 {
		return fail(exitError, "cutover %s: %s", id, strings.Join(bad, "; "))
	}
	return nil
}
