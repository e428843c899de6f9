package awstest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// DynamoDB is not faked: its conditional writes are what the journal and
// the lease rest on, so their tests run against a real DynamoDB-compatible
// server on this machine (dynalite; `make test` starts one). The helpers
// below are the one place that says which server that is.
const (
	// EnvDynamoDBEndpoint names the local DynamoDB-compatible server's
	// endpoint, http://127.0.0.1:PORT.
	EnvDynamoDBEndpoint = "SAFECUTOVER_DYNAMODB_ENDPOINT"
	// EnvRequireDynamoDB, when set (`make test` sets it), makes
	// DynamoDBEndpoint fail a test that finds no server instead of
	// skipping it.
	EnvRequireDynamoDB = "SAFECUTOVER_REQUIRE_DYNAMODB"
)

// ErrNoDynamoDB is the error of LocalDynamoDB when EnvDynamoDBEndpoint is
// unset.
var ErrNoDynamoDB = errors.New(EnvDynamoDBEndpoint + " is unset; `make test` starts dynalite and sets it " +
	"(by hand: npm ci --prefix tools/dynalite && tools/dynalite/start.sh PORT, then " +
	EnvDynamoDBEndpoint + "=http://127.0.0.1:PORT)")

// LocalDynamoDB returns the endpoint EnvDynamoDBEndpoint names. It is an
// error wrapping ErrNoDynamoDB when the variable is unset, and an error
// naming the variable when it is not an http URL with a port on this
// machine (127.0.0.1, ::1 or localhost): tests never reach a remote table.
func LocalDynamoDB() (string, error) {
	ep := os.Getenv(EnvDynamoDBEndpoint)
	if ep == "" {
		return "", ErrNoDynamoDB
	}
	u, err := url.Parse(ep)
	if err != nil || u.Scheme != "http" || u.Port() == "" {
		return "", fmt.Errorf("%s: %q: want http://127.0.0.1:PORT", EnvDynamoDBEndpoint, ep)
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("%s: %q: want a server on this machine (127.0.0.1, ::1 or localhost)", EnvDynamoDBEndpoint, ep)
	}
	return ep, nil
}

// DynamoDBEndpoint returns LocalDynamoDB's endpoint for the test tb. With
// none named it skips tb, or fails it when EnvRequireDynamoDB is set; a
// bad endpoint fails it.
func DynamoDBEndpoint(tb testing.TB) string {
	tb.Helper()
	ep, err := LocalDynamoDB()
	switch {
	case errors.Is(err, ErrNoDynamoDB) && os.Getenv(EnvRequireDynamoDB) == "":
		tb.Skip(err.Error())
	case errors.Is(err, ErrNoDynamoDB):
		tb.Fatalf("%s is set: %v", EnvRequireDynamoDB, err)
	case err != nil:
		tb.Fatal(err)
	}
	return ep
}

// DynamoDBClient returns an SDK client for the DynamoDB-compatible server
// at endpoint, with Region and static credentials.
func DynamoDBClient(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       Region,
		Credentials:  Credentials(),
	})
}
