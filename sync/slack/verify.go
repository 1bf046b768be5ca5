package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// MaxBodyBytes is the largest request body Verify reads. Slack's payloads
// (a view_submission with its whole view) stay well below it.
const MaxBodyBytes = 1 << 20

// MaxClockSkew is how far X-Slack-Request-Timestamp may be from the
// verifier's clock. "Verifying requests from Slack" recommends rejecting
// requests older than five minutes to defeat replays.
const MaxClockSkew = 5 * time.Minute

// Verifier checks that a request comes from Slack: the X-Slack-Signature
// header must be the v0 HMAC-SHA256 of "v0:{timestamp}:{body}" keyed with the
// app's signing secret, and X-Slack-Request-Timestamp must be within
// [MaxClockSkew] of Clock.
//
// It computes the same signature as slack-go's SecretsVerifier, whose
// timestamp check reads the wall clock and cannot be given another one; the
// errors it wraps are slack-go's (slack.ErrMissingHeaders,
// slack.ErrInvalidSignature, slack.ErrExpiredTimestamp) so callers may test
// for either.
type Verifier struct {
	// Secret is the app's signing secret (SLACK_SIGNING_SECRET).
	Secret string
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

// VerifyError is why a request is not accepted as Slack's. Every VerifyError
// is answered with 401 and changes nothing.
type VerifyError struct {
	// Reason says what was wrong, for logs (never the computed signature).
	Reason string
	// Err is one of slack-go's sentinel errors, or a read error.
	Err error
}

// Error says the request was not verified and why.
func (e *VerifyError) Error() string { return "slack request not verified: " + e.Reason }

// Unwrap returns the underlying error.
func (e *VerifyError) Unwrap() error { return e.Err }

// Verify reads r's body (at most [MaxBodyBytes]) and returns it when the
// request is signed with v.Secret at a time within [MaxClockSkew] of now.
// Otherwise it returns a *VerifyError.
func (v Verifier) Verify(r *http.Request) ([]byte, error) {
	if v.Secret == "" {
		return nil, &VerifyError{Reason: "no signing secret configured", Err: slack.ErrInvalidConfiguration}
	}
	sig, stamp := r.Header.Get("X-Slack-Signature"), r.Header.Get("X-Slack-Request-Timestamp")
	if sig == "" || stamp == "" {
		return nil, &VerifyError{Reason: "missing X-Slack-Signature or X-Slack-Request-Timestamp", Err: slack.ErrMissingHeaders}
	}
	if err := v.checkTimestamp(stamp); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, &VerifyError{Reason: "reading body: " + err.Error(), Err: err}
	}
	if len(body) > MaxBodyBytes {
		return nil, &VerifyError{Reason: "body too large", Err: slack.ErrInvalidSignature}
	}
	if !v.signatureMatches(sig, stamp, body) {
		return nil, &VerifyError{Reason: "signature does not match", Err: slack.ErrInvalidSignature}
	}
	return body, nil
}

func (v Verifier) checkTimestamp(stamp string) error {
	secs, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil {
		return &VerifyError{Reason: fmt.Sprintf("timestamp %q is not a number", stamp), Err: slack.ErrExpiredTimestamp}
	}
	now := time.Now
	if v.Clock != nil {
		now = v.Clock
	}
	if skew := now().Sub(time.Unix(secs, 0)).Abs(); skew > MaxClockSkew {
		return &VerifyError{Reason: fmt.Sprintf("timestamp is %s away from now", skew.Round(time.Second)), Err: slack.ErrExpiredTimestamp}
	}
	return nil
}

func (v Verifier) signatureMatches(header, stamp string, body []byte) bool {
	hexSig, ok := strings.CutPrefix(header, "v0=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	return hmac.Equal(got, signature(v.Secret, stamp, body))
}

// signature is HMAC-SHA256(secret, "v0:" + timestamp + ":" + body).
func signature(secret, stamp string, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:", stamp)
	mac.Write(body)
	return mac.Sum(nil)
}

// Sign returns the X-Slack-Signature value Slack would send for body at
// the given time; tests use it to build authentic requests.
func Sign(secret string, at time.Time, body []byte) (sig, timestamp string) {
	timestamp = strconv.FormatInt(at.Unix(), 10)
	return "v0=" + hex.EncodeToString(signature(secret, timestamp, body)), timestamp
}

// IsVerifyError reports whether err means the request was not Slack's.
func IsVerifyError(err error) bool {
	var ve *VerifyError
	return errors.As(err, &ve)
}
