package awsprovider_test

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

type fakeKMSKey struct {
	priv crypto.Signer
	spec string
	algs []string
}

type fakeKMS struct {
	wireCalls
	mu   sync.Mutex
	keys map[string]*fakeKMSKey
}

func newFakeKMS() *fakeKMS { return &fakeKMS{keys: map[string]*fakeKMSKey{}} }

func (f *fakeKMS) client(h wireHTTP) *kms.Client {
	o := kms.Options{BaseEndpoint: &h.url, Region: "us-east-1", Credentials: wireCreds, Retryer: wireRetryer()}
	if h.client != nil {
		o.HTTPClient = h.client
	}
	return kms.New(o)
}

// addKey creates a key of spec ECC_NIST_P256 or RSA_2048 and returns its ARN.
func (f *fakeKMS) addKey(id, spec string) string {
	k := &fakeKMSKey{spec: spec}
	var err error
	switch spec {
	case "ECC_NIST_P256":
		k.priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		k.algs = []string{"ECDSA_SHA_256"}
	case "RSA_2048":
		k.priv, err = rsa.GenerateKey(rand.Reader, 2048)
		k.algs = []string{"RSASSA_PSS_SHA_256", "RSASSA_PKCS1_V1_5_SHA_256"}
	default:
		panic("fake kms: key spec " + spec)
	}
	if err != nil {
		panic(err)
	}
	arn := fmt.Sprintf("arn:aws:kms:us-east-1:%s:key/%s", testAccount, id)
	f.mu.Lock()
	f.keys[arn] = k
	f.mu.Unlock()
	return arn
}

func (f *fakeKMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := jsonOp(w, r, kmsTarget, &f.wireCalls)
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
		writeJSONError(w, wireFault{http.StatusBadRequest, "SerializationException", err.Error()})
		return
	}
	f.mu.Lock()
	k, ok := f.keys[in.KeyId]
	f.mu.Unlock()
	if !ok {
		writeJSONError(w, wireFault{http.StatusBadRequest, "NotFoundException", "Key '" + in.KeyId + "' does not exist"})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch op {
	case "GetPublicKey":
		der, err := x509.MarshalPKIXPublicKey(k.priv.Public())
		if err != nil {
			writeJSONError(w, faultInternal)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"KeyId": in.KeyId, "PublicKey": der, "KeySpec": k.spec, "KeyUsage": "SIGN_VERIFY", "SigningAlgorithms": k.algs})
	case "Sign":
		if in.MessageType != "DIGEST" || len(in.Message) != 32 {
			writeJSONError(w, wireFault{http.StatusBadRequest, "ValidationException", "want a 32-byte DIGEST"})
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
			writeJSONError(w, wireFault{http.StatusBadRequest, "InvalidKeyUsageException", "algorithm " + in.SigningAlgorithm + " not valid for this key"})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"KeyId": in.KeyId, "Signature": sig, "SigningAlgorithm": in.SigningAlgorithm})
	default:
		writeJSONError(w, wireFault{http.StatusBadRequest, "UnknownOperationException", op})
	}
}
