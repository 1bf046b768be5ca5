// Package policyfile reads and edits the tailnet policy file as HuJSON text:
// the members of the portal's managed groups are read and patched in the
// syntax tree (github.com/tailscale/hujson), and every other byte of the file
// is kept exactly as written.
//
// It owns no state and talks to nothing: it imports only the standard
// library and hujson, never the database, grants or the network.
package policyfile
