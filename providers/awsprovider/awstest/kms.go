package awstest

// A stateful fake of KMS over awsJson1_1 (POST /, X-Amz-Target
// TrentService.*, JSON bodies with base64 blobs): asymmetric signing keys
// that Sign digests and hand out their public keys, as KMS does.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/kms"
)

const kmsTarget = "TrentService."

type kmsKey struct {
	priv crypto.Signer
	spec string
	algs []string
}

// KMS is a fake KMS service: asymmetric signing keys. Safe for concurrent
// use.
type KMS struct {
	*Faults
	mu   sync.Mutex
	keys map[string]*kmsKey
}

// NewKMS returns a KMS with no keys.
func NewKMS() *KMS { return &KMS{Faults: &Faults{}, keys: map[string]*kmsKey{}} }

// Client returns an SDK client of f at e.
func (f *KMS) Client(e Endpoint) *kms.Client { return kms.NewFromConfig(e.Config()) }

// AddKey creates a signing key of spec ECC_NIST_P256 or RSA_2048 with key
// ID id and returns its ARN.
func (f *KMS) AddKey(id, spec string) (string, error) {
	k := &kmsKey{spec: spec}
	var err error
	switch spec {
	case "ECC_NIST_P256":
		k.priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		k.algs = []string{"ECDSA_SHA_256"}
	case "RSA_2048":
		k.priv, err = rsa.GenerateKey(rand.Reader, 2048)
		k.algs = []string{"RSASSA_PSS_SHA_256", "RSASSA_PKCS1_V1_5_SHA_256"}
	default:
		return "", fmt.Errorf("awstest KMS key spec: %q: want ECC_NIST_P256 or RSA_2048", spec)
	}
	if err != nil {
		return "", fmt.Errorf("awstest KMS key %s: %w", id, err)
	}
	arn := fmt.Sprintf("arn:aws:kms:us-east-1:%s:key/%s", Account, id)
	f.mu.Lock()
	f.keys[arn] = k
	f.mu.Unlock()
	return arn, nil
}

// ServeHTTP serves one awsJson1_1 call.
func (f *KMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := JSONCall(w, r, kmsTarget, f.Faults)
	if !ok {
		return
	}
	var in struct {
		KeyId            string
		Message          []byte // base64 on the wire, as encoding/json reads []byte
		MessageType      string
		SigningAlgorithm string
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		WriteJSONError(w, Fault{http.StatusBadRequest, "SerializationException", err.Error()})
		return
	}
	f.mu.Lock()
	k, ok := f.keys[in.KeyId]
	f.mu.Unlock()
	if !ok {
		WriteJSONError(w, Fault{http.StatusBadRequest, "NotFoundException", "Key '" + in.KeyId + "' does not exist"})
		return
	}
	switch op {
	case "GetPublicKey":
		der, err := x509.MarshalPKIXPublicKey(k.priv.Public())
		if err != nil {
			WriteJSONError(w, InternalError)
			return
		}
		WriteJSON(w, map[string]any{"KeyId": in.KeyId, "PublicKey": der, "KeySpec": k.spec, "KeyUsage": "SIGN_VERIFY", "SigningAlgorithms": k.algs})
	case "Sign":
		if in.MessageType != "DIGEST" || len(in.Message) != 32 {
			WriteJSONError(w, Fault{http.StatusBadRequest, "ValidationException", "want a 32-byte DIGEST"})
			return
		}
		var sig []byte
		var err error
		switch in.SigningAlgorithm {
		case "ECDSA_SHA_256":
			if k.spec != "ECC_NIST_P256" {
				err = fmt.Errorf("algorithm")
				break
			}
			sig, err = ecdsa.SignASN1(rand.Reader, k.priv.(*ecdsa.PrivateKey), in.Message)
		case "RSASSA_PSS_SHA_256":
			if k.spec != "RSA_2048" {
				err = fmt.Errorf("algorithm")
				break
			}
			sig, err = rsa.SignPSS(rand.Reader, k.priv.(*rsa.PrivateKey), crypto.SHA256, in.Message, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		case "RSASSA_PKCS1_V1_5_SHA_256":
			if k.spec != "RSA_2048" {
				err = fmt.Errorf("algorithm")
				break
			}
			sig, err = rsa.SignPKCS1v15(rand.Reader, k.priv.(*rsa.PrivateKey), crypto.SHA256, in.Message)
		default:
			err = fmt.Errorf("algorithm")
		}
		if err != nil {
			WriteJSONError(w, Fault{http.StatusBadRequest, "InvalidKeyUsageException", "algorithm " + in.SigningAlgorithm + " not valid for this key"})
			return
		}
		WriteJSON(w, map[string]any{"KeyId": in.KeyId, "Signature": sig, "SigningAlgorithm": in.SigningAlgorithm})
	default:
		WriteJSONError(w, Fault{http.StatusBadRequest, "UnknownOperationException", op})
	}
}
