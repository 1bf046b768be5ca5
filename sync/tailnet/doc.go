// Package tailnet is the portal's client of the Tailscale control API: the
// policy file with its ETag (read, validate, write with If-Match), devices,
// device posture attributes, webhooks and the configuration log, over
// tailscale.com/client/tailscale/v2.
//
// It holds no state of its own and must not import grants or the database:
// callers decide what to write and record what was confirmed.
package tailnet
