package awsprovider_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
)

func TestKMSSignVerifyAtTheWire(t *testing.T) {
	t.Parallel()
	f := awstest.NewKMS()
	c := f.Client(awstest.Serve(t, f))
	ecKey := addKey(t, f, "ec-1", "ECC_NIST_P256")
	rsaKey := addKey(t, f, "rsa-1", "RSA_2048")
	v, err := awsprovider.NewKMSVerifier(c, awsprovider.KMSVerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key string
		alg types.SigningAlgorithmSpec
	}{
		{ecKey, ""},
		{rsaKey, types.SigningAlgorithmSpecRsassaPssSha256},
		{rsaKey, types.SigningAlgorithmSpecRsassaPkcs1V15Sha256},
	} {
		s, err := awsprovider.NewKMSSigner(c, tc.key, awsprovider.KMSSignerOptions{Algorithm: tc.alg})
		if err != nil {
			t.Fatal(err)
		}
		payload := []byte(`{"v":1}`)
		sig, err := s.Sign(t.Context(), "safecutover-approve", payload)
		if err != nil {
			t.Fatalf("%s %s: sign: %v", tc.key, tc.alg, err)
		}
		sig.Payload = string(payload)
		if sig.Key != tc.key || sig.Scheme != awsprovider.KMSScheme {
			t.Errorf("signature names %s %s; want %s kms", sig.Key, sig.Scheme, tc.key)
		}
		for i := 0; i < 3; i++ {
			if err := v.VerifySignature(t.Context(), "safecutover-approve", sig); err != nil {
				t.Fatalf("%s %s: verify: %v", tc.key, tc.alg, err)
			}
		}
		if err := v.VerifySignature(t.Context(), "safecutover-abort", sig); !errors.Is(err, cutover.ErrBadSignature) {
			t.Errorf("%s: another role's namespace: %v; want ErrBadSignature", tc.alg, err)
		}
		bad := sig
		bad.Blob = append([]byte(nil), sig.Blob...)
		bad.Blob[len(bad.Blob)/2] ^= 1
		if err := v.VerifySignature(t.Context(), "safecutover-approve", bad); !errors.Is(err, cutover.ErrBadSignature) {
			t.Errorf("%s: corrupted: %v; want ErrBadSignature", tc.alg, err)
		}
		other := sig
		other.Algorithm = "ECDSA_SHA_384"
		if err := v.VerifySignature(t.Context(), "safecutover-approve", other); !errors.Is(err, cutover.ErrBadSignature) {
			t.Errorf("%s: algorithm the key lacks: %v; want ErrBadSignature", tc.alg, err)
		}
	}
	if n := f.Calls("GetPublicKey"); n != 2 {
		t.Errorf("GetPublicKey called %d times for 2 keys; want each fetched once", n)
	}
	unknown := cutover.Signature{Scheme: awsprovider.KMSScheme, Key: "arn:aws:kms:us-east-1:" + awstest.Account + ":key/nope", Algorithm: "ECDSA_SHA_256", Payload: "p", Blob: []byte{1}}
	if err := v.VerifySignature(t.Context(), "safecutover-approve", unknown); !errors.Is(err, cutover.ErrUnknownKey) {
		t.Errorf("key KMS does not know: %v; want ErrUnknownKey", err)
	}
	ssh := unknown
	ssh.Scheme = "ssh"
	if err := v.VerifySignature(t.Context(), "safecutover-approve", ssh); !errors.Is(err, cutover.ErrUnknownKey) {
		t.Errorf("another scheme: %v; want ErrUnknownKey", err)
	}
}

func TestKMSVerifierOutage(t *testing.T) {
	t.Parallel()
	f := awstest.NewKMS()
	c := f.Client(awstest.Serve(t, f))
	key := addKey(t, f, "ec-1", "ECC_NIST_P256")
	s, err := awsprovider.NewKMSSigner(c, key, awsprovider.KMSSignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s.Sign(t.Context(), "ns", []byte("p"))
	if err != nil {
		t.Fatal(err)
	}
	sig.Payload = "p"
	v, err := awsprovider.NewKMSVerifier(c, awsprovider.KMSVerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.FailNext("GetPublicKey", awstest.MaxAttempts, awstest.InternalError)
	err = v.VerifySignature(t.Context(), "ns", sig)
	if err == nil || errors.Is(err, cutover.ErrBadSignature) || errors.Is(err, cutover.ErrUnknownKey) {
		t.Fatalf("KMS down: %v; want an error that judges nothing", err)
	}
	if err := v.VerifySignature(t.Context(), "ns", sig); err != nil {
		t.Fatalf("KMS back: %v (a failed fetch must not be cached)", err)
	}
	f.FailNext("GetPublicKey", awstest.MaxAttempts, awstest.InternalError)
	if err := v.VerifySignature(t.Context(), "ns", sig); err != nil {
		t.Fatalf("KMS down again, key cached: %v", err)
	}
}

func TestKMSSignerOptions(t *testing.T) {
	t.Parallel()
	f := awstest.NewKMS()
	c := f.Client(awstest.Serve(t, f))
	for _, tc := range []struct {
		arn  string
		alg  types.SigningAlgorithmSpec
		want string
	}{
		{"alias/approvals", "", "key ARN"},
		{"arn:aws:kms:us-east-1:" + awstest.Account + ":alias/approvals", "", "key ARN"},
		{"arn:aws:kms:us-east-1:" + awstest.Account + ":key/", "", "key ARN"},
		{"arn:aws:kms:us-east-1:" + awstest.Account + ":key/k", "SM2DSA", "Algorithm"},
	} {
		if _, err := awsprovider.NewKMSSigner(c, tc.arn, awsprovider.KMSSignerOptions{Algorithm: tc.alg}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: %v; want an error naming %s", tc.arn, tc.alg, err, tc.want)
		}
	}
	if _, err := awsprovider.NewKMSSigner(nil, "", awsprovider.KMSSignerOptions{}); err == nil {
		t.Error("nil client: no error")
	}
	// A key that cannot sign with the algorithm asked for.
	key := addKey(t, f, "ec-2", "ECC_NIST_P256")
	s, err := awsprovider.NewKMSSigner(c, key, awsprovider.KMSSignerOptions{Algorithm: types.SigningAlgorithmSpecRsassaPssSha256})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(t.Context(), "ns", []byte("p")); err == nil || !strings.Contains(err.Error(), "InvalidKeyUsage") {
		t.Errorf("wrong algorithm for the key: %v; want KMS's InvalidKeyUsageException", err)
	}
}

// TestKMSApprovers runs the approvers' check with KMS keys: the
// initiator's key starts, a second approver's key approves, and an
// approval signed by the initiator's key under the approver's name is
// refused.
func TestKMSApprovers(t *testing.T) {
	t.Parallel()
	f := awstest.NewKMS()
	c := f.Client(awstest.Serve(t, f))
	aliceKey, bobKey := addKey(t, f, "alice", "ECC_NIST_P256"), addKey(t, f, "bob", "RSA_2048")
	alice, err := awsprovider.NewKMSSigner(c, aliceKey, awsprovider.KMSSignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := awsprovider.NewKMSSigner(c, bobKey, awsprovider.KMSSignerOptions{Algorithm: types.SigningAlgorithmSpecRsassaPssSha256})
	if err != nil {
		t.Fatal(err)
	}
	v, err := awsprovider.NewKMSVerifier(c, awsprovider.KMSVerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := &cutover.Approvers{
		Entries: []cutover.Approver{
			{Key: aliceKey, Principals: []string{"alice"}, Roles: cutover.RoleStart | cutover.RoleApprove},
			{Key: bobKey, Principals: []string{"bob"}, Roles: cutover.RoleApprove},
		},
		Verifiers: []cutover.KeyVerifier{v},
	}
	t0 := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	start := cutover.Record{Seq: 1, Type: cutover.RecStart, Time: t0, Plan: "p", Stages: []string{"retire"}, Actor: "alice",
		Outline: []cutover.StageOutline{{Reversibility: "irreversible", Approval: true}}}
	hash := cutover.PlanHash(start)
	if err := cutover.SignCommand(t.Context(), alice, "c1", hash, &start); err != nil {
		t.Fatal(err)
	}
	forged := cutover.Record{Seq: 2, Type: cutover.RecCommand, Time: t0.Add(time.Minute), Command: cutover.CmdApprove, Actor: "bob", Stage: "retire"}
	if err := cutover.SignCommand(t.Context(), alice, "c1", hash, &forged); err != nil {
		t.Fatal(err)
	}
	good := cutover.Record{Seq: 3, Type: cutover.RecCommand, Time: t0.Add(2 * time.Minute), Command: cutover.CmdApprove, Actor: "bob", Stage: "retire"}
	if err := cutover.SignCommand(t.Context(), bob, "c1", hash, &good); err != nil {
		t.Fatal(err)
	}
	vs, err := a.VerifyJournal(t.Context(), "c1", []cutover.Record{start, forged, good})
	if err != nil {
		t.Fatal(err)
	}
	if vs[0].Err != nil || vs[0].Identity.Key != aliceKey {
		t.Errorf("start: %+v; want accepted as %s", vs[0], aliceKey)
	}
	var re *cutover.RefusedError
	if !errors.As(vs[1].Err, &re) || re.Reason != cutover.RefusedUnknownKey {
		t.Errorf("alice's key signing as bob: %v; want unknown key", vs[1].Err)
	}
	if vs[2].Err != nil || vs[2].Identity.Key != bobKey {
		t.Errorf("bob's approval: %+v; want accepted as %s", vs[2], bobKey)
	}
}

// addKey adds a signing key to f and returns its ARN.
func addKey(t *testing.T, f *awstest.KMS, id, spec string) string {
	t.Helper()
	arn, err := f.AddKey(id, spec)
	if err != nil {
		t.Fatal(err)
	}
	return arn
}
