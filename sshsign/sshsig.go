package sshsign

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// The SSHSIG format (OpenSSH's PROTOCOL.sshsig), as ssh-keygen -Y sign
// writes it.
const (
	magic       = "SSHSIG"
	sigVersion  = 1
	armorBegin  = "-----BEGIN SSH SIGNATURE-----"
	armorEnd    = "-----END SSH SIGNATURE-----"
	armorWidth  = 70
	hashDefault = "sha512"
	// maxArmored bounds the armored signature parsed (an RSA 16384-bit
	// key and signature fit well within it).
	maxArmored = 16 << 10
)

// sshsig is a decoded SSHSIG signature.
type sshsig struct {
	pub       ssh.PublicKey
	namespace string
	hashAlg   string
	sig       *ssh.Signature
}

// digest hashes message with the SSHSIG hash algorithm alg.
func digest(alg string, message []byte) ([]byte, error) {
	switch alg {
	case "sha256":
		h := sha256.Sum256(message)
		return h[:], nil
	case "sha512":
		h := sha512.Sum512(message)
		return h[:], nil
	}
	return nil, fmt.Errorf("hash algorithm %q: want sha256 or sha512", alg)
}

// signedData is what the key signs: the preamble, the namespace, the hash
// algorithm and the message's hash.
func signedData(namespace, hashAlg string, hash []byte) []byte {
	var b bytes.Buffer
	b.WriteString(magic)
	putString(&b, []byte(namespace))
	putString(&b, nil) // reserved
	putString(&b, []byte(hashAlg))
	putString(&b, hash)
	return b.Bytes()
}

func putString(b *bytes.Buffer, s []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(s)))
	b.Write(n[:])
	b.Write(s)
}

// encode returns the armored form of a signature by pub.
func encode(pub ssh.PublicKey, namespace, hashAlg string, sig *ssh.Signature) []byte {
	var b bytes.Buffer
	b.WriteString(magic)
	var v [4]byte
	binary.BigEndian.PutUint32(v[:], sigVersion)
	b.Write(v[:])
	putString(&b, pub.Marshal())
	putString(&b, []byte(namespace))
	putString(&b, nil)
	putString(&b, []byte(hashAlg))
	putString(&b, ssh.Marshal(sig))
	enc := base64.StdEncoding.EncodeToString(b.Bytes())
	var out strings.Builder
	out.WriteString(armorBegin + "\n")
	for len(enc) > armorWidth {
		out.WriteString(enc[:armorWidth] + "\n")
		enc = enc[armorWidth:]
	}
	out.WriteString(enc + "\n" + armorEnd + "\n")
	return []byte(out.String())
}

// errFormat is the cause of every malformed signature.
var errFormat = errors.New("not an SSH signature")

// decode parses an armored SSHSIG signature.
func decode(armored []byte) (*sshsig, error) {
	if len(armored) > maxArmored {
		return nil, fmt.Errorf("%d bytes: want at most %d: %w", len(armored), maxArmored, errFormat)
	}
	s := strings.TrimSpace(string(armored))
	body, ok := strings.CutPrefix(s, armorBegin)
	if !ok {
		return nil, fmt.Errorf("no %q line: %w", armorBegin, errFormat)
	}
	body, ok = strings.CutSuffix(body, armorEnd)
	if !ok {
		return nil, fmt.Errorf("no %q line: %w", armorEnd, errFormat)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(strings.Join(strings.Fields(body), ""))
	if err != nil {
		return nil, fmt.Errorf("base64: %w: %w", err, errFormat)
	}
	r := reader{b: raw}
	if m := r.bytes(len(magic)); string(m) != magic {
		return nil, fmt.Errorf("preamble: want %q: %w", magic, errFormat)
	}
	if v := r.uint32(); v != sigVersion {
		return nil, fmt.Errorf("version %d: want %d: %w", v, sigVersion, errFormat)
	}
	pubBytes, ns, _, alg, sigBytes := r.string(), r.string(), r.string(), r.string(), r.string()
	if r.bad || len(r.b) != 0 {
		return nil, fmt.Errorf("truncated or trailing data: %w", errFormat)
	}
	pub, err := ssh.ParsePublicKey(pubBytes)
	if err != nil {
		return nil, fmt.Errorf("public key: %w: %w", err, errFormat)
	}
	sig := new(ssh.Signature)
	if err := ssh.Unmarshal(sigBytes, sig); err != nil {
		return nil, fmt.Errorf("signature: %w: %w", err, errFormat)
	}
	if len(sig.Rest) > 0 && !strings.HasPrefix(pub.Type(), "sk-") {
		// Only security keys append flags and a counter.
		return nil, fmt.Errorf("signature: trailing data: %w", errFormat)
	}
	return &sshsig{pub: pub, namespace: string(ns), hashAlg: string(alg), sig: sig}, nil
}

// reader reads SSH wire data; bad is set once it runs short.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) bytes(n int) []byte {
	if r.bad || n < 0 || n > len(r.b) {
		r.bad = true
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) uint32() uint32 {
	b := r.bytes(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func (r *reader) string() []byte {
	n := r.uint32()
	if n > uint32(len(r.b)) {
		r.bad = true
		return nil
	}
	return r.bytes(int(n))
}

// verify checks s over message in namespace.
func (s *sshsig) verify(namespace string, message []byte) error {
	if s.namespace != namespace {
		return fmt.Errorf("namespace %q: want %q", s.namespace, namespace)
	}
	if s.sig.Format == ssh.KeyAlgoRSA {
		// SHA-1 signatures, refused by ssh-keygen too.
		return fmt.Errorf("signature format %q: want rsa-sha2-256 or rsa-sha2-512", s.sig.Format)
	}
	h, err := digest(s.hashAlg, message)
	if err != nil {
		return err
	}
	return s.pub.Verify(signedData(namespace, s.hashAlg, h), s.sig)
}
