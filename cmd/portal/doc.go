// Command portal runs the access portal: the web server and API, the Okta
// sync, the reconciler and the expiry sweeper (serve), a self-contained demo
// (demo), and maintenance commands.
//
// It is wiring only: it reads the configuration, opens the database and
// builds grants, sync and web from it. Domain work belongs in grants, talk
// to Okta and the tailnet in sync, HTTP in web.
package main
