package grants

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// GenesisHash is the previous hash of the first audit event.
const GenesisHash = genesisHash

// ComputeHash is the event's hash in the plain SHA-256 chain: the previous
// hash and every field, each prefixed with its length. Verifiers outside
// this package (evidence packets) recompute it.
func (e *AuditEvent) ComputeHash() string { return e.computeHash() }

// ChainHash is the event's hash in the chain keyed by key: HMAC-SHA256 under
// key over the same length-prefixed fields as ComputeHash, or ComputeHash
// itself when key is empty.
func (e *AuditEvent) ChainHash(key []byte) string {
	if len(key) == 0 {
		return e.computeHash()
	}
	h := hmac.New(sha256.New, key)
	for _, f := range []string{e.PrevHash, e.At.UTC().Format(time.RFC3339Nano), e.Actor, e.Action, e.Target, e.Details} {
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{':'})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}
