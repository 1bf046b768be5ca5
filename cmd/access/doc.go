// Command access is the employees' command-line client of the access portal:
// it asks for just-in-time access to a resource, waits for the grant to reach
// the tailnet, lists one's requests and grants, and lets approvers decide.
// It talks to the portal's JSON API with an API token.
//
// Configuration comes from ACCESS_URL and ACCESS_TOKEN, or else from the
// file "access login" writes. Exit codes: 0 success, 1 a refused or failed
// operation, 2 a usage error.
//
// It speaks only HTTP to the portal: it must not import grants, web or sync,
// so that its JSON shapes are the contract's, not the server's types.
package main
