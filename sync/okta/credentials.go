package okta

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/okta/okta-sdk-golang/v2/okta"
)

// Scopes are what the portal asks of an API service app: read users and
// groups, read the System Log.
var Scopes = []string{"okta.users.read", "okta.groups.read", "okta.logs.read"}

// credentials are the SDK options for the configured credential: an API
// service app with a private key (OAuth 2.0 client credentials with a
// private_key_jwt assertion; "Implement OAuth for Okta with a service app",
// developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp), or
// an SSWS API token, which dies with the admin who made it.
func credentials(cfg Config) ([]okta.ConfigSetter, error) {
	switch {
	case cfg.ClientID != "" || cfg.PrivateKey != "":
		if cfg.ClientID == "" || cfg.PrivateKey == "" {
			return nil, errors.New("okta: a service app needs both a client id and a private key")
		}
		key, err := pkcs1PEM(cfg.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("okta: private key: %w", err)
		}
		opts := []okta.ConfigSetter{
			okta.WithAuthorizationMode("PrivateKey"), okta.WithClientId(cfg.ClientID),
			okta.WithPrivateKey(key), okta.WithScopes(Scopes),
		}
		if cfg.PrivateKeyID != "" {
			opts = append(opts, okta.WithPrivateKeyId(cfg.PrivateKeyID))
		}
		return opts, nil
	case cfg.APIToken != "":
		return []okta.ConfigSetter{okta.WithToken(cfg.APIToken), okta.WithAuthorizationMode("SSWS")}, nil
	}
	return nil, errors.New("okta: an API token or a service app (client id and private key) is required")
}

// pkcs1PEM returns an RSA private key as the PKCS#1 PEM the SDK reads,
// from PKCS#1 or PKCS#8 PEM.
func pkcs1PEM(text string) (string, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(text)))
	if block == nil {
		return "", errors.New("not PEM")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
			return "", err
		}
		return string(pem.EncodeToMemory(block)), nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return "", err
		}
		rsaKey, ok := k.(*rsa.PrivateKey)
		if !ok {
			return "", fmt.Errorf("a %T is no RSA key", k)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})), nil
	}
	return "", fmt.Errorf("a %q PEM block is no RSA private key", block.Type)
}
