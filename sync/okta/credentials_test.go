package okta

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/okta/okta-sdk-golang/v2/okta"
)

// TestServiceAppKeyFormats: the private key of an API service app may be
// PKCS#1 or PKCS#8 PEM; anything else is refused with a clear error.
func TestServiceAppKeyFormats(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"PKCS#1": string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})),
		"PKCS#8": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})),
	} {
		if _, err := New(Config{OrgURL: "https://example.okta.com", ClientID: "0oa1", PrivateKey: text}); err != nil {
			t.Errorf("%s key: %v", name, err)
		}
	}
	for name, cfg := range map[string]Config{
		"not PEM":          {OrgURL: "https://example.okta.com", ClientID: "0oa1", PrivateKey: "secret"},
		"key without id":   {OrgURL: "https://example.okta.com", PrivateKey: "x"},
		"no credential":    {OrgURL: "https://example.okta.com"},
		"a public key PEM": {OrgURL: "https://example.okta.com", ClientID: "0oa1", PrivateKey: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"},
	} {
		if _, err := New(cfg); err == nil || !strings.HasPrefix(err.Error(), "okta:") {
			t.Errorf("%s: New = %v, want an okta: error", name, err)
		}
	}
}

// TestLoginAttribute: PORTAL_TAILSCALE_LOGIN=login makes the Okta login,
// lower-cased, the person's Tailscale login instead of the email.
func TestLoginAttribute(t *testing.T) {
	u := &okta.User{Id: "00u1", Status: "ACTIVE", Profile: &okta.UserProfile{"login": "Jörg.Doe@Example.COM", "email": "jd@mail.example.com"}}
	if got := userRow(u, "login").Email; got != "jörg.doe@example.com" {
		t.Errorf("login attribute: %q", got)
	}
	if got := userRow(u, "email").Email; got != "jd@mail.example.com" {
		t.Errorf("email attribute: %q", got)
	}
}
