package evidence

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strings"
)

// ParseSigningKey reads PORTAL_SIGNING_KEY: the base64 of a 32-byte Ed25519
// seed.
func ParseSigningKey(s string) (ed25519.PrivateKey, error) {
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("PORTAL_SIGNING_KEY is not base64: %w", err)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("PORTAL_SIGNING_KEY holds %d bytes; an Ed25519 seed is %d", len(seed), ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// ParsePublicKey reads a public key as PublicKeyString writes it.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("public key is not base64: %w", err)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key holds %d bytes; an Ed25519 public key is %d", len(b), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}
