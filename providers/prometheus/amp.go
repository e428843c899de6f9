package prometheus

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// ampService is the SigV4 signing name of Amazon Managed Service for
// Prometheus.
const ampService = "aps"

// AMPOptions sign requests for Amazon Managed Service for Prometheus.
type AMPOptions struct {
	// Region is the workspace's region, for the endpoint and the
	// signature. Required.
	Region string
	// Workspace is the workspace ID (ws-…). Required unless New is given
	// an address.
	Workspace string
	// Credentials sign the requests, usually the Credentials of an
	// aws.Config from config.LoadDefaultConfig. Required.
	Credentials aws.CredentialsProvider
	// Now tells the signing time; nil means time.Now. AWS rejects
	// signatures more than five minutes off the wall clock, so this is
	// for tests only.
	Now func() time.Time
}

var (
	regionRE    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	workspaceRE = regexp.MustCompile(`^ws-[0-9a-zA-Z-]+$`)
)

// address returns the query endpoint of the workspace, or given if set.
func (o *AMPOptions) address(given string) (string, error) {
	if !regionRE.MatchString(o.Region) {
		return "", fmt.Errorf("AMP.Region %q: want an AWS region such as us-east-1", o.Region)
	}
	if o.Credentials == nil {
		return "", fmt.Errorf("AMP.Credentials: nil: want a credentials provider (aws.Config.Credentials)")
	}
	if given != "" {
		return given, nil
	}
	if !workspaceRE.MatchString(o.Workspace) {
		return "", fmt.Errorf("AMP.Workspace %q: want a workspace ID ws-…, or an address", o.Workspace)
	}
	return fmt.Sprintf("https://aps-workspaces.%s.amazonaws.com/workspaces/%s", o.Region, o.Workspace), nil
}

// roundTripper returns next wrapped in a SigV4 signer.
func (o *AMPOptions) roundTripper(next http.RoundTripper) (http.RoundTripper, error) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &sigV4{next: next, signer: v4.NewSigner(), creds: o.Credentials, region: o.Region, now: now}, nil
}

// sigV4 signs each request with the AWS SDK's SigV4 signer.
type sigV4 struct {
	next   http.RoundTripper
	signer *v4.Signer
	creds  aws.CredentialsProvider
	region string
	now    func() time.Time
}

// RoundTrip signs a copy of r (body hashed) and sends it.
func (s *sigV4) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("sigv4: read body: %w", err)
		}
		body = b
	}
	req := r.Clone(r.Context())
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.ContentLength = int64(len(body))
	}
	sum := sha256.Sum256(body)
	creds, err := s.creds.Retrieve(r.Context())
	if err != nil {
		return nil, fmt.Errorf("sigv4: credentials: %w", err)
	}
	if err := s.signer.SignHTTP(r.Context(), creds, req, hex.EncodeToString(sum[:]), ampService, s.region, s.now()); err != nil {
		return nil, fmt.Errorf("sigv4: sign: %w", err)
	}
	return s.next.RoundTrip(req)
}
