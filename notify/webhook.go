package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// WebhookOptions configure a webhook sender. The zero value is valid.
type WebhookOptions struct {
	// Client sends the requests; nil means http.DefaultClient.
	Client interface {
		Do(*http.Request) (*http.Response, error)
	}
	// Header is added to every request (an Authorization header).
	Header http.Header
}

// WebhookBody is what a webhook receives: a Slack-compatible object, whose
// text Slack shows, with the Message under "event" for programs.
type WebhookBody struct {
	Text  string  `json:"text"`
	Event Message `json:"event"`
}

type webhook struct {
	url  string
	opts WebhookOptions
}

// Webhook returns a sender that POSTs a WebhookBody as JSON to rawURL (an
// http or https URL, a Slack incoming webhook). Any 2xx status is
// delivered; anything else is an error, retried.
func Webhook(rawURL string, opts WebhookOptions) (Sender, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("notify webhook: URL %q: want an http:// or https:// URL", rawURL)
	}
	if opts.Client == nil {
		opts.Client = http.DefaultClient
	}
	return &webhook{url: rawURL, opts: opts}, nil
}

// Send posts m.
func (w *webhook) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(WebhookBody{Text: m.Summary(), Event: m})
	if err != nil {
		return fmt.Errorf("webhook: encode: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	for k, vs := range w.opts.Header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := w.opts.Client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("webhook: status %s", res.Status)
	}
	return nil
}
