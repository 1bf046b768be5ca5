package oktafake

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/okta/okta-sdk-golang/v2/okta"
)

const testToken = "00testTokenForTheFakeOrg"

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock(t time.Time) *testClock { return &testClock{t: t} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// One key for the whole test binary: generating RSA keys is slow under -race.
var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func sharedKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

// startFake serves a fake org on an httptest server for the test's lifetime.
func startFake(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	if opts.APIToken == "" {
		opts.APIToken = testToken
	}
	if opts.SigningKey == nil {
		opts.SigningKey = sharedKey(t)
	}
	s := New(opts)
	ts := httptest.NewServer(s)
	s.SetIssuer(ts.URL)
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	return s, ts.URL
}

// sdkClient is the real okta-sdk-golang client pointed at the fake, with
// its cache off as the portal uses it and no 429 retries unless asked.
func sdkClient(t *testing.T, orgURL, token string, extra ...okta.ConfigSetter) *okta.Client {
	t.Helper()
	setters := []okta.ConfigSetter{
		okta.WithOrgUrl(orgURL),
		okta.WithToken(token),
		okta.WithCache(false),
		okta.WithTestingDisableHttpsCheck(true),
		okta.WithRateLimitMaxRetries(0),
	}
	_, c, err := okta.NewClient(context.Background(), append(setters, extra...)...)
	if err != nil {
		t.Fatalf("creating Okta client: %v", err)
	}
	return c
}
