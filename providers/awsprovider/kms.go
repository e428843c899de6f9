package awsprovider

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"go.uber.org/zap"

	"github.com/safecutover/safecutover/cutover"
)

// KMSScheme is the cutover.Signature scheme of AWS KMS signatures.
const KMSScheme = "kms"

// KMSSignAPI is the part of *kms.Client a KMSSigner uses.
type KMSSignAPI interface {
	Sign(ctx context.Context, in *kms.SignInput, optFns ...func(*kms.Options)) (*kms.SignOutput, error)
}

// KMSPublicKeyAPI is the part of *kms.Client a KMSVerifier uses.
type KMSPublicKeyAPI interface {
	GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, optFns ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
}

var (
	_ KMSSignAPI      = (*kms.Client)(nil)
	_ KMSPublicKeyAPI = (*kms.Client)(nil)
)

// kmsHashes maps the signing algorithms KMSSigner and KMSVerifier support
// to their hash.
var kmsHashes = map[types.SigningAlgorithmSpec]crypto.Hash{
	types.SigningAlgorithmSpecEcdsaSha256:          crypto.SHA256,
	types.SigningAlgorithmSpecEcdsaSha384:          crypto.SHA384,
	types.SigningAlgorithmSpecEcdsaSha512:          crypto.SHA512,
	types.SigningAlgorithmSpecRsassaPssSha256:      crypto.SHA256,
	types.SigningAlgorithmSpecRsassaPssSha384:      crypto.SHA384,
	types.SigningAlgorithmSpecRsassaPssSha512:      crypto.SHA512,
	types.SigningAlgorithmSpecRsassaPkcs1V15Sha256: crypto.SHA256,
	types.SigningAlgorithmSpecRsassaPkcs1V15Sha384: crypto.SHA384,
	types.SigningAlgorithmSpecRsassaPkcs1V15Sha512: crypto.SHA512,
}

// kmsDigest is what a KMS key signs (as a DIGEST): the hash of the
// namespace, a NUL and the payload, so that a signature for one role is
// not valid for another.
func kmsDigest(h crypto.Hash, namespace string, payload []byte) []byte {
	var w interface {
		Write([]byte) (int, error)
		Sum([]byte) []byte
	}
	switch h {
	case crypto.SHA384:
		w = sha512.New384()
	case crypto.SHA512:
		w = sha512.New()
	default:
		w = sha256.New()
	}
	w.Write([]byte(namespace))
	w.Write([]byte{0})
	w.Write(payload)
	return w.Sum(nil)
}

// KMSSignerOptions configures a KMSSigner. The zero value is valid.
type KMSSignerOptions struct {
	// Algorithm is the signing algorithm; it must be one the key
	// supports. Default ECDSA_SHA_256 (an ECC_NIST_P256 key).
	Algorithm types.SigningAlgorithmSpec
	// Logger receives debug logs; nil means none.
	Logger *zap.Logger
	// Pacer, if set, is waited on before each API call.
	Pacer Pacer
}

// KMSSigner signs cutover commands with an AWS KMS asymmetric key
// (kms:Sign), so that the private key never leaves KMS and who may sign is
// an IAM decision. It is a cutover.Signer, safe for concurrent use.
type KMSSigner struct {
	awsBase
	client KMSSignAPI
	key    string
	alg    types.SigningAlgorithmSpec
}

var _ cutover.Signer = (*KMSSigner)(nil)

// NewKMSSigner returns a signer with the key keyARN, a full key ARN
// ("arn:aws:kms:REGION:ACCOUNT:key/ID": the identity approvers list, so an
// alias or a bare ID is refused).
func NewKMSSigner(client KMSSignAPI, keyARN string, opts KMSSignerOptions) (*KMSSigner, error) {
	if client == nil {
		return nil, errors.New("kms signer: nil client")
	}
	if err := checkKMSKeyARN(keyARN); err != nil {
		return nil, fmt.Errorf("kms signer: %w", err)
	}
	alg := opts.Algorithm
	if alg == "" {
		alg = types.SigningAlgorithmSpecEcdsaSha256
	}
	if _, ok := kmsHashes[alg]; !ok {
		return nil, fmt.Errorf("kms signer: Algorithm: %q: want one of %s", alg, kmsAlgorithms())
	}
	return &KMSSigner{awsBase: newAWSBase(opts.Logger, nil, opts.Pacer), client: client, key: keyARN, alg: alg}, nil
}

// checkKMSKeyARN reports whether arn is a full KMS key ARN.
func checkKMSKeyARN(arn string) error {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "kms" || !strings.HasPrefix(parts[5], "key/") || len(parts[5]) == len("key/") {
		return fmt.Errorf("key ARN: %q: want arn:PARTITION:kms:REGION:ACCOUNT:key/ID", arn)
	}
	return nil
}

func kmsAlgorithms() string {
	var names []string
	for a := range kmsHashes {
		names = append(names, string(a))
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// Key returns the key's ARN, the identity approvers list.
func (s *KMSSigner) Key() string { return s.key }

// Sign signs payload in namespace with kms:Sign over the digest of both.
func (s *KMSSigner) Sign(ctx context.Context, namespace string, payload []byte) (cutover.Signature, error) {
	if err := s.pace(ctx, "Sign"); err != nil {
		return cutover.Signature{}, err
	}
	out, err := s.client.Sign(ctx, &kms.SignInput{
		KeyId:            aws.String(s.key),
		Message:          kmsDigest(kmsHashes[s.alg], namespace, payload),
		MessageType:      types.MessageTypeDigest,
		SigningAlgorithm: s.alg,
	})
	if err != nil {
		return cutover.Signature{}, fmt.Errorf("kms sign with %s: %w", s.key, err)
	}
	if got := aws.ToString(out.KeyId); got != s.key {
		return cutover.Signature{}, fmt.Errorf("kms sign with %s: KMS signed with %s: %w", s.key, got, ErrReadBackMismatch)
	}
	if out.SigningAlgorithm != s.alg || len(out.Signature) == 0 {
		return cutover.Signature{}, fmt.Errorf("kms sign with %s: answer has algorithm %q and %d signature bytes; want %s: %w", s.key, out.SigningAlgorithm, len(out.Signature), s.alg, ErrReadBackMismatch)
	}
	s.log.Debug("kms signed", zap.String("key", s.key), zap.String("namespace", namespace))
	return cutover.Signature{Scheme: KMSScheme, Key: s.key, Algorithm: string(s.alg), Blob: out.Signature}, nil
}

// KMSVerifierOptions configures a KMSVerifier. The zero value is valid.
type KMSVerifierOptions struct {
	// Logger receives debug logs; nil means none.
	Logger *zap.Logger
	// Pacer, if set, is waited on before each API call.
	Pacer Pacer
}

// KMSVerifier checks KMS signatures locally with each key's public key,
// fetched with kms:GetPublicKey the first time the key is seen and kept:
// verifying a journal's commands costs one call per key, and a runner
// whose KMS calls start failing still verifies the keys it has seen.
// It is a cutover.KeyVerifier, safe for concurrent use. Which keys are
// allowed is the approvers' list; the verifier asks KMS only about keys
// the runner found there.
type KMSVerifier struct {
	awsBase
	client KMSPublicKeyAPI
	mu     sync.Mutex
	keys   map[string]*kmsPublicKey
}

type kmsPublicKey struct {
	pub  crypto.PublicKey
	algs []types.SigningAlgorithmSpec
}

var _ cutover.KeyVerifier = (*KMSVerifier)(nil)

// NewKMSVerifier returns a verifier over client.
func NewKMSVerifier(client KMSPublicKeyAPI, opts KMSVerifierOptions) (*KMSVerifier, error) {
	if client == nil {
		return nil, errors.New("kms verifier: nil client")
	}
	return &KMSVerifier{awsBase: newAWSBase(opts.Logger, nil, opts.Pacer), client: client, keys: make(map[string]*kmsPublicKey)}, nil
}

// VerifySignature checks a KMS signature (Scheme "kms"). Another scheme,
// or a key KMS does not know, is an error wrapping cutover.ErrUnknownKey;
// a signature that does not verify, or an algorithm the key does not
// have, wraps cutover.ErrBadSignature; a failed call to KMS wraps
// neither.
func (v *KMSVerifier) VerifySignature(ctx context.Context, namespace string, sig cutover.Signature) error {
	if sig.Scheme != KMSScheme {
		return fmt.Errorf("scheme %q: %w", sig.Scheme, cutover.ErrUnknownKey)
	}
	if err := checkKMSKeyARN(sig.Key); err != nil {
		return fmt.Errorf("kms signature: %w: %w", err, cutover.ErrUnknownKey)
	}
	k, err := v.publicKey(ctx, sig.Key)
	if err != nil {
		return err
	}
	alg := types.SigningAlgorithmSpec(sig.Algorithm)
	h, ok := kmsHashes[alg]
	if !ok || !slices.Contains(k.algs, alg) {
		return fmt.Errorf("kms signature by %s: algorithm %q: want one of the key's %v: %w", sig.Key, sig.Algorithm, k.algs, cutover.ErrBadSignature)
	}
	d := kmsDigest(h, namespace, []byte(sig.Payload))
	var valid bool
	switch pub := k.pub.(type) {
	case *ecdsa.PublicKey:
		valid = strings.HasPrefix(string(alg), "ECDSA_") && ecdsa.VerifyASN1(pub, d, sig.Blob)
	case *rsa.PublicKey:
		switch {
		case strings.HasPrefix(string(alg), "RSASSA_PSS_"):
			valid = rsa.VerifyPSS(pub, h, d, sig.Blob, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		case strings.HasPrefix(string(alg), "RSASSA_PKCS1_V1_5_"):
			valid = rsa.VerifyPKCS1v15(pub, h, d, sig.Blob) == nil
		}
	}
	if !valid {
		return fmt.Errorf("kms signature by %s (%s): does not verify: %w", sig.Key, alg, cutover.ErrBadSignature)
	}
	return nil
}

// publicKey returns the cached public key of arn, fetching it once.
func (v *KMSVerifier) publicKey(ctx context.Context, arn string) (*kmsPublicKey, error) {
	v.mu.Lock()
	k := v.keys[arn]
	v.mu.Unlock()
	if k != nil {
		return k, nil
	}
	if err := v.pace(ctx, "GetPublicKey"); err != nil {
		return nil, err
	}
	out, err := v.client.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(arn)})
	if err != nil {
		var nf *types.NotFoundException
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("kms key %s: %w: %w", arn, err, cutover.ErrUnknownKey)
		}
		return nil, fmt.Errorf("kms get public key %s: %w", arn, err)
	}
	if got := aws.ToString(out.KeyId); got != arn {
		return nil, fmt.Errorf("kms key %s: KMS answered for %s: %w", arn, got, cutover.ErrUnknownKey)
	}
	if out.KeyUsage != types.KeyUsageTypeSignVerify {
		return nil, fmt.Errorf("kms key %s: usage %s: want SIGN_VERIFY: %w", arn, out.KeyUsage, cutover.ErrUnknownKey)
	}
	pub, err := x509.ParsePKIXPublicKey(out.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("kms key %s: public key: %w: %w", arn, err, cutover.ErrUnknownKey)
	}
	k = &kmsPublicKey{pub: pub, algs: out.SigningAlgorithms}
	v.mu.Lock()
	v.keys[arn] = k
	v.mu.Unlock()
	v.log.Debug("kms public key cached", zap.String("key", arn))
	return k, nil
}
