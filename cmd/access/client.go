package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// userAgent identifies the CLI to the portal.
const userAgent = "access-cli"

// maxAnswer bounds how much of an answer is read.
const maxAnswer = 16 << 20

// apiClient calls the portal's JSON API with a bearer token.
type apiClient struct {
	conn connection
	http *http.Client
}

func (c *cli) newAPIClient() (*apiClient, error) {
	conn, err := c.connection()
	if err != nil {
		return nil, err
	}
	return newAPIClient(conn), nil
}

func newAPIClient(conn connection) *apiClient {
	return &apiClient{conn: conn, http: &http.Client{Timeout: httpTimeout}}
}

// apiError is an answer of the API outside 2xx.
type apiError struct {
	status  int
	message string // the API's {"error": …}, or a description of the body
	// tokenSource says where the token came from, for 401 advice.
	tokenSource string
}

func (e *apiError) Error() string {
	switch {
	case e.status == http.StatusUnauthorized:
		advice := `run "access login"`
		switch e.tokenSource {
		case "ACCESS_TOKEN":
			advice = `check ACCESS_TOKEN or run "access login"`
		case "login":
			advice = "create a new token in the portal and run \"access login\" with it"
		}
		return fmt.Sprintf("the token was refused (401): %s — %s", e.message, advice)
	case e.status == http.StatusForbidden:
		return fmt.Sprintf("refused (403): %s", e.message)
	case e.status == http.StatusNotFound:
		return fmt.Sprintf("not found (404): %s", e.message)
	case e.status == http.StatusConflict:
		return fmt.Sprintf("not possible now (409): %s", e.message)
	case e.status >= 500:
		return fmt.Sprintf("the portal failed (%d): %s", e.status, e.message)
	default:
		return fmt.Sprintf("refused (%d): %s", e.status, e.message)
	}
}

// unreachableError means no HTTP answer came back at all.
type unreachableError struct {
	url    string
	reason string
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("cannot reach %s: %s", e.url, e.reason)
}

// call sends body (nil for none) as JSON and returns the answer's JSON. Any
// answer outside 2xx is an *apiError; no answer is an *unreachableError.
func (a *apiClient) call(ctx context.Context, method, path string, query url.Values, body any) (json.RawMessage, error) {
	target := a.conn.url + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, fmt.Errorf("building %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+a.conn.token)
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := a.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &unreachableError{url: a.conn.url, reason: transportReason(err)}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &unreachableError{url: a.conn.url, reason: "reading the answer: " + transportReason(err)}
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return nil, &apiError{status: res.StatusCode, message: errorMessage(res, data), tokenSource: a.conn.tokenSource}
	}
	if !json.Valid(data) {
		return nil, fmt.Errorf("%s %s answered %s that is not JSON: is %s the portal?", method, path, describeBody(res, data), a.conn.url)
	}
	return data, nil
}

// get calls GET path and decodes the answer into out (when not nil).
func (a *apiClient) get(ctx context.Context, path string, query url.Values, out any) (json.RawMessage, error) {
	raw, err := a.call(ctx, http.MethodGet, path, query, nil)
	if err != nil {
		return nil, err
	}
	return raw, decodeAnswer(raw, out)
}

// post calls POST path with body and decodes the answer into out (when not nil).
func (a *apiClient) post(ctx context.Context, path string, body, out any) (json.RawMessage, error) {
	raw, err := a.call(ctx, http.MethodPost, path, nil, body)
	if err != nil {
		return nil, err
	}
	return raw, decodeAnswer(raw, out)
}

func decodeAnswer(raw json.RawMessage, out any) error {
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("the portal's answer has an unexpected shape: %v", err)
	}
	return nil
}

// errorMessage is the API's {"error": …} message, or a short description
// of a body that is not one.
func errorMessage(res *http.Response, data []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(data, &e) == nil && e.Error != "" {
		return oneLine(e.Error)
	}
	return describeBody(res, data)
}

func describeBody(res *http.Response, data []byte) string {
	text := oneLine(string(data))
	ct := res.Header.Get("Content-Type")
	switch {
	case text == "":
		return http.StatusText(res.StatusCode)
	case strings.Contains(ct, "html"):
		return http.StatusText(res.StatusCode) + " (an HTML page)"
	case len(text) > 200:
		return text[:200] + "…"
	default:
		return text
	}
}

// transportReason is the part of a transport error a person can act on:
// "connection refused", "no such host", "timed out after 30s", a TLS problem.
func transportReason(err error) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) && urlErr.Timeout() {
		return fmt.Sprintf("no answer within %s", httpTimeout)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsNotFound {
			return "no such host " + dnsErr.Name
		}
		return dnsErr.Error()
	}
	var sysErr *os.SyscallError
	if errors.As(err, &sysErr) {
		return sysErr.Err.Error()
	}
	var certErr *x509.UnknownAuthorityError
	if errors.As(err, &certErr) {
		return "TLS: the server's certificate is signed by an unknown authority (set SSL_CERT_FILE to trust it)"
	}
	var hostErr x509.HostnameError
	if errors.As(err, &hostErr) {
		return "TLS: " + hostErr.Error()
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return opErr.Err.Error()
	}
	if urlErr != nil {
		return urlErr.Err.Error()
	}
	return err.Error()
}

// connect parses a command's flags, wants its arguments (names) and opens
// the API client: how every command that talks to the portal begins.
func (c *cli) connect(f *commandFlags, args []string, names ...string) (*apiClient, []string, error) {
	rest, err := f.parse(args)
	if err != nil {
		return nil, nil, err
	}
	if err := wantArgs(rest, names...); err != nil {
		return nil, nil, err
	}
	if err := wantIDs(rest, names...); err != nil {
		return nil, nil, err
	}
	api, err := c.newAPIClient()
	if err != nil {
		return nil, nil, err
	}
	return api, rest, nil
}
