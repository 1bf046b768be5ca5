// Package web is the portal's HTTP face: pages, the JSON API, sign-in
// (OIDC) and sessions, the Okta event hook, the Slack app (slash command
// and interactions, slack_*.go), health and metrics.
//
// It owns routes, handlers (thin: one file per action, one template per
// page), templates and the one place where errors become responses
// (errors.go: a table from the kind of domain refusal to the HTTP status,
// HTML or JSON). It reads and writes the database only through
// grants.Store: it must not import gorm.io/gorm or build a query, and holds
// no domain rules (those are in grants).
package web
