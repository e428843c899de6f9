package sshsign

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/safecutover/safecutover/cutover"
)

// Scheme is the cutover.Signature scheme of SSH signatures.
const Scheme = "ssh"

// Signer signs cutover commands with an SSH key, in the format of
// ssh-keygen -Y sign, so that ssh-keygen -Y verify can check them too. It
// is a cutover.Signer; it is safe for concurrent use when the ssh.Signer
// it wraps is (keys in memory are; an agent connection is serialized by
// the agent client).
type Signer struct {
	s   ssh.Signer
	key string
}

var _ cutover.Signer = (*Signer)(nil)

// NewSigner returns a Signer over s.
func NewSigner(s ssh.Signer) (*Signer, error) {
	if s == nil {
		return nil, errors.New("ssh signer: nil")
	}
	return &Signer{s: s, key: ssh.FingerprintSHA256(s.PublicKey())}, nil
}

// LoadKey reads a private key file (OpenSSH, PKCS#1, PKCS#8 or SEC 1
// PEM), decrypting it with passphrase when it is encrypted.
func LoadKey(file string, passphrase []byte) (*Signer, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("ssh key: %w", err)
	}
	var s ssh.Signer
	if len(passphrase) > 0 {
		s, err = ssh.ParsePrivateKeyWithPassphrase(pem, passphrase)
	} else {
		s, err = ssh.ParsePrivateKey(pem)
	}
	if err != nil {
		return nil, fmt.Errorf("ssh key %s: %w", file, err)
	}
	return NewSigner(s)
}

// Agent returns a Signer that asks the ssh-agent listening on socket (as
// SSH_AUTH_SOCK names it) to sign with the key whose public half is pub
// (as an authorized_keys line, or a .pub file's content), as git does
// for commit signing. Close closes the connection.
func Agent(socket string, pub []byte) (*AgentSigner, error) {
	want, _, _, _, err := ssh.ParseAuthorizedKey(pub)
	if err != nil {
		return nil, fmt.Errorf("ssh agent: public key: %w", err)
	}
	conn, err := net.Dial("unix", socket)
	if err != nil {
		return nil, fmt.Errorf("ssh agent: %w", err)
	}
	signers, err := agent.NewClient(conn).Signers()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("ssh agent %s: %w", socket, err)
	}
	fp := ssh.FingerprintSHA256(want)
	for _, s := range signers {
		if ssh.FingerprintSHA256(s.PublicKey()) == fp {
			return &AgentSigner{Signer: Signer{s: s, key: fp}, conn: conn}, nil
		}
	}
	conn.Close()
	return nil, fmt.Errorf("ssh agent %s: key %s: not loaded (ssh-add it)", socket, fp)
}

// AgentSigner is a Signer whose key is held by an ssh-agent.
type AgentSigner struct {
	Signer
	conn net.Conn
}

// Close closes the connection to the agent.
func (a *AgentSigner) Close() error { return a.conn.Close() }

// Key returns the fingerprint of the signing key ("SHA256:..."), the
// identity an allowed_signers line of it grants.
func (s *Signer) Key() string { return s.key }

// Sign signs payload in namespace, as ssh-keygen -Y sign -n namespace
// would. RSA keys sign with rsa-sha2-512. ctx is checked before signing;
// an agent's answer cannot be cancelled.
func (s *Signer) Sign(ctx context.Context, namespace string, payload []byte) (cutover.Signature, error) {
	if err := context.Cause(ctx); ctx.Err() != nil {
		return cutover.Signature{}, err
	}
	if namespace == "" {
		return cutover.Signature{}, errors.New("ssh sign: namespace: empty")
	}
	h, _ := digest(hashDefault, payload)
	data := signedData(namespace, hashDefault, h)
	var sig *ssh.Signature
	var err error
	if as, ok := s.s.(ssh.AlgorithmSigner); ok && s.s.PublicKey().Type() == ssh.KeyAlgoRSA {
		sig, err = as.SignWithAlgorithm(rand.Reader, data, ssh.KeyAlgoRSASHA512)
	} else {
		sig, err = s.s.Sign(rand.Reader, data)
	}
	if err != nil {
		return cutover.Signature{}, fmt.Errorf("ssh sign with %s: %w", s.key, err)
	}
	return cutover.Signature{Scheme: Scheme, Key: s.key, Blob: encode(s.s.PublicKey(), namespace, hashDefault, sig)}, nil
}
