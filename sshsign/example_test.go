package sshsign_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/sshsign"
)

// Example runs a cutover whose point of no return only a configured second
// person may approve, with SSH keys. The keys are throwaway ones made
// here; in production each person signs with their own key file or
// ssh-agent (cutoverctl approve ID -sign-key ~/.ssh/id_ed25519), and the
// allowed_signers file is kept in review like code.
func Example() {
	ctx := context.Background()
	alice, aliceLine := throwaway("alice@example.com", "safecutover-start,safecutover-approve")
	bob, bobLine := throwaway("bob@example.com", "safecutover-approve,safecutover-abort")
	carol, carolLine := throwaway("carol@example.com", "safecutover-pause")
	allowed, err := sshsign.ParseAllowedSigners(strings.NewReader(aliceLine + "\n" + bobLine + "\n" + carolLine + "\n"))
	if err != nil {
		fmt.Println(err)
		return
	}

	noop := func(context.Context) error { return nil }
	plan := cutover.Plan{Name: "migrate", Stages: []cutover.Stage{
		{Name: "shift traffic", Apply: noop, Revert: noop},
		{Name: "retire blue", Apply: noop, Reversibility: cutover.Irreversible()},
	}}
	j := cutover.NewMemJournal()
	runner := cutover.MustNewRunner(j, cutover.RunnerOptions{
		Actor: "alice@example.com", Signer: alice, TwoPerson: true,
		Approvers: &cutover.Approvers{Entries: allowed.Approvers(), Verifiers: []cutover.KeyVerifier{allowed}},
	})
	answer := func(seq uint64, err error) string {
		if err != nil {
			return "not written: " + err.Error()[:strings.Index(err.Error(), ";")]
		}
		recs, _ := j.Read(ctx, "web-42", seq)
		for _, r := range recs {
			if r.Type == cutover.RecAck && r.Ref == seq {
				if r.Error != "" {
					// "refused: REASON: detail"
					return strings.Join(strings.SplitN(r.Error, ": ", 3)[:2], ": ")
				}
				return "accepted"
			}
		}
		return "no answer"
	}

	_, err = runner.Run(ctx, "web-42", plan)
	fmt.Println("first run waits:", errors.Is(err, cutover.ErrPNRNotApproved))

	// Send refuses what cannot count before writing it; the runner refuses
	// the rest, and journals why.
	unsigned, unsignedErr := cutover.SendSeq(ctx, j, "web-42", cutover.CmdApprove, "bob@example.com", "looks fine", "retire blue")
	forged, forgedErr := cutover.SendSigned(ctx, j, "web-42", cutover.CmdApprove, "bob@example.com", "as bob", "retire blue", carol)
	role, roleErr := cutover.SendSigned(ctx, j, "web-42", cutover.CmdApprove, "carol@example.com", "me too", "retire blue", carol)
	good, goodErr := cutover.SendSigned(ctx, j, "web-42", cutover.CmdApprove, "bob@example.com", "5xx flat for 30m", "retire blue", bob)

	st, err := runner.Run(ctx, "web-42", plan)
	fmt.Println("unsigned:", answer(unsigned, unsignedErr))
	fmt.Println("carol's key as bob:", answer(forged, forgedErr))
	fmt.Println("carol's own:", answer(role, roleErr))
	fmt.Println("bob's:", answer(good, goodErr))
	fmt.Println(st.Phase, err)
	// Output:
	// first run waits: true
	// unsigned: not written: send approve to cutover web-42: refused: signature: none
	// carol's key as bob: refused: unknown key
	// carol's own: refused: wrong role
	// bob's: accepted
	// completed <nil>
}

// throwaway returns a signer with a fresh key and its allowed_signers line.
func throwaway(principal, namespaces string) (*sshsign.Signer, string) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	k, _ := ssh.NewSignerFromKey(priv)
	s, _ := sshsign.NewSigner(k)
	return s, fmt.Sprintf("%s namespaces=%q %s", principal, namespaces, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k.PublicKey()))))
}
